package cluster_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/siotest"
)

// A node in a process of its own, for a test to kill with SIGKILL: the
// test binary runs again with childEnv set, and TestMain then serves a
// node instead of running the tests.

// The child's environment: the Redis URL and the names' prefix.
const (
	childEnv       = "PARLEY_CLUSTER_CHILD"
	childRedisEnv  = "PARLEY_CLUSTER_CHILD_REDIS"
	childPrefixEnv = "PARLEY_CLUSTER_CHILD_PREFIX"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child node:", err)
			os.Exit(1)
		}
		return
	}
	leaktest.Main(m)
}

// runChild serves a node with recovery on and the test events
// (serveTestEvents), writes {"url":...} on its standard output once the
// node is ready, and serves until it is killed.
func runChild() error {
	opts, err := redis.ParseURL(os.Getenv(childRedisEnv))
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	node, err := cluster.New(recoveryConfig(c, os.Getenv(childPrefixEnv)))
	if err != nil {
		return err
	}
	scfg := socketio.Config{NewAdapter: node.NewAdapter, Logger: siotest.DiscardLogger()}
	withRecovery(&scfg)
	srv := socketio.NewServer(scfg)
	serveTestEvents(srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Ready(ctx); err != nil {
		return err
	}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"url": "http://" + ln.Addr().String(), "uid": node.UID()}); err != nil {
		return err
	}
	return http.Serve(ln, srv)
}

// childNode is a node in a child process.
type childNode struct {
	cmd      *exec.Cmd
	url, uid string
}

// startChild starts a child node in the cluster of prefix, killed when the
// test ends if it is still running.
func startChild(t *testing.T, redisURL, prefix string) *childNode {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childRedisEnv+"="+redisURL, childPrefixEnv+"="+prefix)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := &childNode{cmd: cmd}
	t.Cleanup(ch.kill)
	line := make(chan []byte, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Bytes()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		var r struct{ URL, UID string }
		if !ok || json.Unmarshal(l, &r) != nil {
			t.Fatalf("child node said %q", l)
		}
		ch.url, ch.uid = r.URL, r.UID
	case <-time.After(20 * time.Second):
		t.Fatal("child node not ready")
	}
	return ch
}

// kill kills the child with SIGKILL, by its pid: no cleanup of any kind
// runs in it. It waits for it to exit.
func (ch *childNode) kill() {
	if ch.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(ch.cmd.Process.Pid, syscall.SIGKILL)
	_ = ch.cmd.Wait()
}
