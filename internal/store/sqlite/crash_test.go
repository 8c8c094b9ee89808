package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/sqlite"
	"github.com/parley-chat/parley/internal/store/storetest"
)

// crashEnv names the database the child process of TestCrash writes to.
const crashEnv = "PARLEY_STORE_CRASH_CHILD"

// TestCrash kills a process that is appending messages with SIGKILL, then
// checks that every message the process saw acknowledged is in the
// database: an acknowledgement means committed.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()

	// Read acknowledgements, "room id text" lines, until enough have
	// come, then kill the child in the middle of its stream.
	const enough = 300
	type key struct {
		room string
		id   int64
	}
	acked := map[key]string{}
	parse := func(line string) bool {
		f := strings.Fields(line)
		if len(f) != 3 {
			return false // the testing package's own output
		}
		id, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		acked[key{f[0], id}] = f[2]
		return true
	}
	sc := bufio.NewScanner(stdout)
	timeout := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer timeout.Stop()
	for len(acked) < enough && sc.Scan() {
		parse(sc.Text())
	}
	if len(acked) < enough {
		cmd.Wait()
		t.Fatalf("child stopped after %d acknowledgements: %v\n%s", len(acked), sc.Err(), stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed = true
	// Take what the child acknowledged until it died.
	for sc.Scan() {
		parse(sc.Text())
	}
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child exited with %v, want killed\n%s", err, stderr.String())
	}

	s, err := sqlite.Open(storetest.Context(t), path)
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	defer s.Close()
	var integrity string
	if err := rawDB(t, path).QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("integrity check after the crash: %q, %v", integrity, err)
	}
	stored := map[key]string{}
	rooms, err := s.Rooms(storetest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		msgs, err := s.Since(storetest.Context(t), r.Name, 0, int(r.LastID)+1)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(msgs)) != r.LastID {
			t.Errorf("room %s: %d messages, LastID %d", r.Name, len(msgs), r.LastID)
		}
		for _, m := range msgs {
			stored[key{m.Room, m.ID}] = m.Text
		}
	}
	lost := 0
	for k, text := range acked {
		if got, ok := stored[k]; !ok || got != text {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged message %s/%d %q: stored %q, %v", k.room, k.id, text, got, ok)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged messages lost", lost, len(acked))
	}
	t.Logf("%d acknowledged messages, %d stored (the rest were in flight), none lost", len(acked), len(stored))
}

// TestCrashChild is the child process of TestCrash: it submits messages
// from several goroutines through a Committer and prints "room id" for each
// acknowledged one, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestCrash")
	}
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	c := store.NewCommitter(s, store.CommitterConfig{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	// The done callbacks run on the Committer's writer goroutine, one at a
	// time: out needs no lock.
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ack := make(chan error, 1)
			for i := 0; ; i++ {
				m := store.Message{Room: fmt.Sprintf("r%d", (g+i)%4), Author: "child", Text: fmt.Sprintf("g%d-%d", g, i)}
				c.Submit(m, func(m store.Message, err error) {
					if err == nil {
						// Acknowledged: tell the parent at once.
						fmt.Fprintf(out, "%s %d %s\n", m.Room, m.ID, m.Text)
						out.Flush()
					}
					ack <- err
				})
				if err := <-ack; err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
