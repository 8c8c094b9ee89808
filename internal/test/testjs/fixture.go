package testjs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const stopTimeout = 5 * time.Second

// Fixture is a long-running Node.js script that a test drives, such as a
// Node.js Socket.IO server: it reads JSON commands on its standard input,
// one a line, {"id":N,"op":"...","args":[...]}, and writes JSON lines on
// its standard output: the answers, {"id":N,"result":...} or
// {"id":N,"error":"..."}, and events, {"event":"name",...}. Its standard
// error is logged when the test fails or runs verbose. It is safe for
// concurrent use.
type Fixture struct {
	t      testing.TB
	script string
	cmd    *exec.Cmd
	stdin  *os.File
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan fixtureLine
	events  []fixtureLine
	eventCh chan struct{} // closed and replaced when an event comes
}

// fixtureLine is one line of a fixture's output.
type fixtureLine struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
	Event  string          `json:"event"`
	raw    json.RawMessage
}

// Start runs `node script` in test/js with env added to the environment,
// in a process group of its own, and waits until it writes its "ready"
// event, which it returns. The process is stopped by its pid when the test
// ends (Stop).
func Start(t testing.TB, script string, env ...string) (*Fixture, json.RawMessage) {
	t.Helper()
	RequireNode(t)
	cmd := exec.Command("node", script)
	cmd.Dir = Dir(t)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = sysProcAttr()
	f := &Fixture{t: t, script: script, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{}),
		waiting: make(map[int]chan fixtureLine), eventCh: make(chan struct{})}
	cmd.Stderr = f.stderr
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = stdinR
	f.stdin = stdinW
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", script, err)
	}
	stdinR.Close()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			f.onLine(sc.Bytes())
		}
		_ = cmd.Wait()
		close(f.done)
	}()
	t.Cleanup(func() {
		f.Stop()
		if out := f.stderr.String(); out != "" && (t.Failed() || testing.Verbose()) {
			t.Logf("node %s, standard error:\n%s", script, indent(out))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ready, err := f.Event(ctx, "ready")
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, indent(f.stderr.String()))
	}
	return f, ready
}

// PID returns the process id of the fixture.
func (f *Fixture) PID() int { return f.cmd.Process.Pid }

func (f *Fixture) onLine(b []byte) {
	var l fixtureLine
	if err := json.Unmarshal(b, &l); err != nil {
		f.stderr.Write([]byte(fmt.Sprintf("testjs: not a JSON line on stdout: %q\n", b)))
		return
	}
	l.raw = append(json.RawMessage(nil), b...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if l.Event != "" {
		f.events = append(f.events, l)
		close(f.eventCh)
		f.eventCh = make(chan struct{})
		return
	}
	if ch := f.waiting[l.ID]; ch != nil {
		delete(f.waiting, l.ID)
		ch <- l
	}
}

// Call sends a command and returns its result, or the error the fixture
// answered with, or an error when ctx ends or the fixture exits first.
func (f *Fixture) Call(ctx context.Context, op string, args ...any) (json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	ch := make(chan fixtureLine, 1)
	f.waiting[id] = ch
	f.mu.Unlock()
	line, err := json.Marshal(struct {
		ID   int    `json:"id"`
		Op   string `json:"op"`
		Args []any  `json:"args"`
	}{id, op, args})
	if err != nil {
		return nil, err
	}
	if _, err := f.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("testjs: sending %s: %w", op, err)
	}
	select {
	case l := <-ch:
		if l.Error != nil {
			return nil, fmt.Errorf("testjs: %s: %s", op, *l.Error)
		}
		return l.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("testjs: %s: %w", op, ctx.Err())
	case <-f.done:
		return nil, fmt.Errorf("testjs: %s: node exited", op)
	}
}

// Event returns the first event called name not returned before, waiting
// for it until ctx ends: the whole line.
func (f *Fixture) Event(ctx context.Context, name string) (json.RawMessage, error) {
	for {
		f.mu.Lock()
		for i, l := range f.events {
			if l.Event == name {
				f.events = append(f.events[:i], f.events[i+1:]...)
				f.mu.Unlock()
				return l.raw, nil
			}
		}
		ch := f.eventCh
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("testjs: waiting for event %q: %w", name, ctx.Err())
		case <-f.done:
			return nil, fmt.Errorf("testjs: waiting for event %q: node exited", name)
		}
	}
}

// Stop ends the fixture: it closes its standard input and sends SIGTERM to
// its process group, then SIGKILL if it has not exited within 5 s. It
// returns once the process has exited, and may be called more than once.
func (f *Fixture) Stop() {
	select {
	case <-f.done:
		return
	default:
	}
	f.stdin.Close()
	terminate(f.cmd.Process)
	select {
	case <-f.done:
	case <-time.After(stopTimeout):
		kill(f.cmd.Process)
		<-f.done
	}
	kill(f.cmd.Process) // whatever it left in its group
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
