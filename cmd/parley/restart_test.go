package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/sioclient"
	"github.com/parley-chat/parley/internal/test/wait"
)

// TestRestartKeepsAckedMessages runs the parley binary, has people send
// messages with acknowledgements, stops the process mid-stream, with
// SIGKILL or SIGTERM, and starts it again on the same store: every
// acknowledged message is in the history exactly once, in order; a resend
// of one whose acknowledgement was lost is stored once; and a client that
// reconnects with auth {since} gets exactly what it missed.
func TestRestartKeepsAckedMessages(t *testing.T) {
	bin := buildParley(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			testRestart(t, bin, sig)
		})
	}
}

func testRestart(t *testing.T, bin string, sig syscall.Signal) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	db := filepath.Join(t.TempDir(), "parley.db")
	first := startParley(t, bin, db)

	// Carol and Dave only listen; they keep the id of the last message
	// they got. Dave leaves early, Carol stays to the end.
	carol, err := dialParley(ctx, t, first.url, sioclient.TransportWebSocket, nil)
	if err != nil {
		t.Fatal(err)
	}
	dave, err := dialParley(ctx, t, first.url, sioclient.TransportPolling, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Four senders, over each transport, each send up to 50 messages (the
	// rate limit's burst is 60), one at a time, each with a client id.
	const senders, each, killAt = 4, 50, 100
	modes := []sioclient.Transport{sioclient.TransportWebSocket, sioclient.TransportPolling, sioclient.TransportUpgrade, sioclient.TransportWebSocket}
	type sender struct {
		name     string
		token    string // the identity new-user gave, to come back as
		acked    []sent // in the order sent
		inFlight string // the text whose ack was lost, if any
	}
	ss := make([]*sender, senders)
	var (
		total atomic.Int32
		wg    sync.WaitGroup
	)
	for i := range ss {
		s := &sender{name: fmt.Sprintf("Sender%d", i)}
		ss[i] = s
		cl, err := dialParley(ctx, t, first.url, modes[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.token, err = cl.join(ctx, s.name, ""); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				text := fmt.Sprintf("%s says %d", s.name, j)
				r, err := cl.ack(ctx, chat.EventSendChatMessage, text, map[string]string{"clientId": text})
				if err != nil {
					s.inFlight = text // the server went away
					return
				}
				if !r.OK {
					t.Errorf("%s: %q refused: %s", s.name, text, r.Error)
					return
				}
				s.acked = append(s.acked, sent{text, r.ID})
				total.Add(1)
			}
		}()
	}
	wait.For(t, "20 acknowledged messages", 10*time.Second, func() bool { return total.Load() >= 20 })
	dave.close()
	wait.For(t, "100 acknowledged messages", 10*time.Second, func() bool { return total.Load() >= killAt })
	first.stop(t, sig)
	wg.Wait()
	lastSeen := make(map[*parleyClient]int64)
	for _, l := range []*parleyClient{carol, dave} {
		msgs := l.messages()
		if len(msgs) == 0 {
			t.Fatal("a listener got no message before the stop")
		}
		lastSeen[l] = msgs[len(msgs)-1].ID
		if got := messageIDs(msgs); !slices.Equal(got, idSpan(1, lastSeen[l])) {
			t.Fatalf("a listener got ids %v before the stop, want 1..%d", got, lastSeen[l])
		}
	}
	acked := 0
	for _, s := range ss {
		acked += len(s.acked)
		t.Logf("%s: %d acknowledged, in flight: %q", s.name, len(s.acked), s.inFlight)
	}
	t.Logf("%d acknowledged; carol saw up to %d, dave up to %d", acked, lastSeen[carol], lastSeen[dave])

	second := startParley(t, bin, db)

	// The whole history, paged back with history requests.
	reader, err := dialParley(ctx, t, second.url, sioclient.TransportWebSocket, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.join(ctx, "Reader", ""); err != nil {
		t.Fatalf("reader: %v", err)
	}
	all := reader.history(ctx, t)
	last := int64(len(all))
	if got := messageIDs(all); !slices.Equal(got, idSpan(1, last)) {
		t.Fatalf("history ids %v, want 1..%d", got, last)
	}
	byText := make(map[string]chat.ChatMessage, len(all))
	for _, m := range all {
		if _, dup := byText[m.Message]; dup {
			t.Errorf("%q is stored twice", m.Message)
		}
		byText[m.Message] = m
	}
	for _, s := range ss {
		for _, a := range s.acked {
			m, ok := byText[a.text]
			if !ok || m.ID != a.id || m.Name != s.name || m.ClientID != a.text {
				t.Errorf("acked %q as %d; stored as %+v (found: %v)", a.text, a.id, m, ok)
			}
		}
	}
	// A new connection's history is the last page of it.
	if got, want := reader.messages(), all[max(0, len(all)-chat.DefaultHistoryLimit):]; !slices.Equal(got, want) {
		t.Errorf("connect history %v, want the last page %v", messageIDs(got), messageIDs(want))
	}

	// The listeners come back with since: what they missed, once, in
	// order, however much it is.
	for _, l := range []*parleyClient{carol, dave} {
		since := lastSeen[l]
		back, err := dialParley(ctx, t, second.url, sioclient.TransportPolling, map[string]int64{"since": since})
		if err != nil {
			t.Fatal(err)
		}
		back.sync(ctx, t)
		if got, want := back.messages(), all[since:]; !slices.Equal(got, want) {
			t.Errorf("back with since %d, got %v, want %v", since, messageIDs(got), messageIDs(want))
		}
	}

	// The senders come back as themselves, with their tokens, and resend
	// what they got no ack for, with the same client id: stored once,
	// whether it was stored before the stop or not.
	for _, s := range ss {
		if s.inFlight == "" {
			continue
		}
		cl, err := dialParley(ctx, t, second.url, sioclient.TransportWebSocket, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.join(ctx, s.name, s.token); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		r, err := cl.ack(ctx, chat.EventSendChatMessage, s.inFlight, map[string]string{"clientId": s.inFlight})
		if err != nil || !r.OK {
			t.Fatalf("%s: resend: %v %+v", s.name, err, r)
		}
		m, stored := byText[s.inFlight]
		t.Logf("%s: %q was stored before the stop: %v", s.name, s.inFlight, stored)
		if stored && m.ID != r.ID {
			t.Errorf("%s: resend of %q acked as %d, stored before the stop as %d", s.name, s.inFlight, r.ID, m.ID)
		} else if !stored && r.ID <= last {
			t.Errorf("%s: resend of %q acked as %d, want a new id after %d", s.name, s.inFlight, r.ID, last)
		}
	}
	// And life goes on, with the next id.
	after := reader.history(ctx, t)
	next, err := reader.ack(ctx, chat.EventSendChatMessage, "after the restart")
	if err != nil || !next.OK || next.ID != int64(len(after))+1 {
		t.Fatalf("after the restart: %v %+v, want id %d", err, next, len(after)+1)
	}
	after = reader.history(ctx, t)
	texts := make(map[string]int)
	for _, m := range after {
		texts[m.Message]++
	}
	for text, n := range texts {
		if n != 1 {
			t.Errorf("%q is stored %d times", text, n)
		}
	}
	if got := messageIDs(after); !slices.Equal(got, idSpan(1, int64(len(after)))) {
		t.Errorf("history ids %v after the resends", got)
	}
	second.stop(t, syscall.SIGTERM)
}

// sent is an acknowledged message.
type sent struct {
	text string
	id   int64
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// buildParley builds the command into a temporary directory, with -race
// when the tests run with it (which also reuses their build cache).
func buildParley(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: go is not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "parley")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		args = append(args, "-race")
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, goTool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built parley in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// process is a running parley binary.
type process struct {
	cmd    *exec.Cmd
	url    string
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{} // closed when it has exited
	err    error         // cmd.Wait's, once done is closed
}

// startParley starts bin on a free loopback port with its history in db,
// and returns once it has printed its URL. The test's cleanup kills it if
// it still runs.
func startParley(t *testing.T, bin, db string) *process {
	t.Helper()
	return startParleyArgs(t, bin, "--store", db)
}

// startParleyAt is startParley listening on addr.
func startParleyAt(t *testing.T, bin, db, addr string) *process {
	t.Helper()
	return startParleyArgs(t, bin, "--addr", addr, "--store", db)
}

// startParleyArgs starts bin on a free loopback port (unless args give
// --addr) with args, and returns once it has printed its URL. The test's
// cleanup kills it if it still runs.
func startParleyArgs(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{
		cmd:    exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...)...),
		stdout: &lockedBuffer{},
		stderr: &lockedBuffer{},
		done:   make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("parley's log:\n%s", p.stderr)
		}
	})
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.stdout.String(), "\n") {
		select {
		case <-p.done:
			t.Fatalf("parley exited before listening: %v\n%s", p.err, p.stderr)
		case <-deadline:
			t.Fatalf("parley printed nothing within 10 s\n%s", p.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	m := runningRE.FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("parley printed %q, want %q", p.stdout, runningRE)
	}
	p.url = strings.Replace(m[1], "localhost", "127.0.0.1", 1)
	return p
}

// stop sends sig and waits for the process to exit: killed by SIGKILL, or
// successfully after another signal.
func (p *process) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("parley did not exit within 10 s of %v", sig)
	}
	var ee *exec.ExitError
	switch {
	case sig == syscall.SIGKILL:
		if !errors.As(p.err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("parley exited with %v, want killed", p.err)
		}
	case p.err != nil:
		t.Fatalf("parley exited with %v after %v\n%s", p.err, sig, p.stderr)
	}
}

// parleyClient is a Go client of a parley process, recording the chat
// messages it gets.
type parleyClient struct {
	c    *sioclient.Client
	so   *sioclient.Socket
	mu   sync.Mutex
	msgs []chat.ChatMessage
}

// dialParley connects to url over tr with auth (nil for none). It reports
// failure as an error.
func dialParley(ctx context.Context, t *testing.T, url string, tr sioclient.Transport, auth any) (*parleyClient, error) {
	c, err := sioclient.Dial(ctx, url, &sioclient.Options{Transport: tr})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	pc := &parleyClient{c: c, so: c.Socket("/")}
	pc.so.On(chat.EventChatMessage, func(e *sioclient.Event) {
		var m chat.ChatMessage
		if err := e.Bind(0, &m); err != nil {
			t.Errorf("chat-message: %v", err)
			return
		}
		pc.mu.Lock()
		pc.msgs = append(pc.msgs, m)
		pc.mu.Unlock()
	})
	if err := pc.so.Connect(ctx, auth); err != nil {
		return nil, err
	}
	return pc, nil
}

// parleyReply is an acknowledgement of the chat.
type parleyReply struct {
	OK       bool               `json:"ok"`
	ID       int64              `json:"id"`
	Messages []chat.ChatMessage `json:"messages"`
	Error    string             `json:"error"`
}

func (pc *parleyClient) ack(ctx context.Context, event string, args ...any) (parleyReply, error) {
	var r parleyReply
	m, err := pc.so.EmitWithAck(ctx, event, args...)
	if err != nil {
		return r, err
	}
	return r, m.Bind(0, &r)
}

// join joins as name, with the guest token of an earlier join when not
// empty, and returns the token the server gave.
func (pc *parleyClient) join(ctx context.Context, name, token string) (string, error) {
	args := []any{name}
	if token != "" {
		args = append(args, map[string]string{"token": token})
	}
	m, err := pc.so.EmitWithAck(ctx, chat.EventNewUser, args...)
	if err != nil {
		return "", fmt.Errorf("new-user: %w", err)
	}
	var r struct {
		OK    bool   `json:"ok"`
		Token string `json:"token"`
		Error string `json:"error"`
	}
	if err := m.Bind(0, &r); err != nil || !r.OK {
		return "", fmt.Errorf("new-user: %v %+v", err, r)
	}
	return r.Token, nil
}

// close closes the connection.
func (pc *parleyClient) close() { _ = pc.c.Close() }

// messages returns the chat messages received so far.
func (pc *parleyClient) messages() []chat.ChatMessage {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return slices.Clone(pc.msgs)
}

// sync waits until everything sent to pc before now has arrived: a
// refusal comes back on the same ordered connection.
func (pc *parleyClient) sync(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := pc.ack(ctx, chat.EventHistory, "not an object"); err != nil {
		t.Fatal(err)
	}
}

// history pages back through general's whole history, oldest first.
func (pc *parleyClient) history(ctx context.Context, t *testing.T) []chat.ChatMessage {
	t.Helper()
	var all []chat.ChatMessage
	for before := int64(0); ; {
		r, err := pc.ack(ctx, chat.EventHistory, map[string]any{"before": before, "limit": chat.MaxHistoryLimit})
		if err != nil || !r.OK {
			t.Fatalf("history before %d: %v %+v", before, err, r)
		}
		if len(r.Messages) == 0 {
			return all
		}
		all = append(r.Messages, all...)
		before = r.Messages[0].ID
	}
}

func messageIDs(msgs []chat.ChatMessage) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func idSpan(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}
