// Package redistest gives tests a Redis of their own: a client of the
// server named by PARLEY_TEST_REDIS, and a key prefix of their own, whose
// keys are deleted when the test ends; or servers the test starts itself,
// redis-server processes on free loopback ports, each in a directory of
// its own, killed by their pids when the test ends: one server (Server),
// a Redis Cluster (Cluster), or a master with replicas watched by Sentinel
// (Sentinel). Tests skip when the variable is unset. It is for tests only.
package redistest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable that holds the URL of the test Redis.
const EnvURL = "PARLEY_TEST_REDIS"

// URL returns the URL of the test Redis, or skips the test.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		tb.Skipf("Redis tests skipped: set %s to a URL, e.g. redis://127.0.0.1:6379/0", EnvURL)
	}
	return u
}

// Client returns a client of the test Redis, closed when the test ends,
// after checking that the server answers.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL(tb))
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("Redis at %s: %v", EnvURL, err)
	}
	return c
}

// Prefix returns a key prefix of the test's own, such as
// "parley-test-3f9k2m1x0a7q", and deletes every key that starts with it
// when the test ends.
func Prefix(tb testing.TB) string {
	tb.Helper()
	c := Client(tb)
	p := "parley-test-" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("listing the keys of %s: %v", p, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("deleting the keys of %s: %v", p, err)
			}
		}
	})
	return p
}

// Server starts a Redis server of the test's own, redis-server on a free
// loopback port with nothing saved to disk, for tests that stop or cut
// Redis, or that need its default names to themselves; it is killed when
// the test ends. It returns the server's URL, and skips the test when
// PARLEY_TEST_REDIS is unset (the sign that this machine has no Redis) or
// redis-server is not installed (see EnvRequireServer).
func Server(tb testing.TB) *LocalServer {
	tb.Helper()
	s := newLocalServer(tb, serverBinary(tb))
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// EnvRequireServer names the variable that, set (as in CI), makes a test
// that starts its own redis-server fail instead of skipping when there is
// none in PATH.
const EnvRequireServer = "PARLEY_REQUIRE_REDIS_SERVER"

// serverBinary returns the path of redis-server, or skips the test (see
// Server).
func serverBinary(tb testing.TB) string {
	tb.Helper()
	URL(tb)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv(EnvRequireServer) != "" {
			tb.Fatalf("no redis-server in PATH, and %s is set", EnvRequireServer)
		}
		tb.Skipf("Redis tests that start their own server skipped: no redis-server in PATH (set %s to make them fail)", EnvRequireServer)
	}
	return bin
}

// freePort returns a port of the loopback interface that nothing listens
// on, as a string.
func freePort(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// newLocalServer returns a server on a free port, in a directory of its
// own, not started; args are added to its command line.
func newLocalServer(tb testing.TB, bin string, args ...string) *LocalServer {
	tb.Helper()
	s := &LocalServer{tb: tb, bin: bin, dir: tb.TempDir(), Addr: net.JoinHostPort("127.0.0.1", freePort(tb))}
	_, port, _ := net.SplitHostPort(s.Addr)
	s.args = append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no"}, args...)
	return s
}

// LocalServer is a redis-server that a test started (see Server, Cluster
// and Sentinel). Its methods are for the test's goroutine.
type LocalServer struct {
	// Addr is the server's host:port.
	Addr string

	tb     testing.TB
	bin    string
	dir    string
	args   []string
	cmd    *exec.Cmd
	out    *output       // what the process writes
	exited chan struct{} // closed when the process has ended
}

// URL returns the URL of the server's database 0.
func (s *LocalServer) URL() string { return "redis://" + s.Addr + "/0" }

// Dir returns the server's working directory, the test's own.
func (s *LocalServer) Dir() string { return s.dir }

// Start starts the server (again, after Stop) on its address, and waits
// until it answers, as this process: one that ends at once (its port was
// taken meanwhile, say) fails the test with what it wrote.
func (s *LocalServer) Start() {
	s.tb.Helper()
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.SysProcAttr = sysProcAttr()
	s.out = &output{}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("starting redis-server: %v", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.cmd, s.exited)
	c := s.client()
	defer c.Close()
	pid := strconv.Itoa(s.cmd.Process.Pid)
	poll(s.tb, "redis-server on "+s.Addr+" to answer", startTimeout, func(ctx context.Context) error {
		select {
		case <-s.exited:
			s.tb.Fatalf("redis-server for %s ended at once:\n%s", s.Addr, s.out.String())
		default:
		}
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "process_id:"+pid+"\r\n") {
			return fmt.Errorf("another process answers on %s", s.Addr)
		}
		return nil
	})
}

// client returns a client of the server alone, which does not retry.
func (s *LocalServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: time.Second})
}

// Running reports whether the server's process runs (it was started and
// not stopped).
func (s *LocalServer) Running() bool { return s.cmd != nil }

// Stop kills the server (SIGKILL, by its pid), if it runs, and waits for
// it to end.
func (s *LocalServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// output keeps what a server writes, the first 64 KiB of it. It is safe
// for concurrent use.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxOutput bounds what an output keeps.
const maxOutput = 64 << 10

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if room := maxOutput - o.buf.Len(); room > 0 {
		o.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Bounds of the waits of this package.
const (
	startTimeout = 10 * time.Second // for a server to answer
	formTimeout  = 15 * time.Second // for a cluster or Sentinel to form
	pollInterval = 20 * time.Millisecond
)

// poll calls check until it returns nil, and fails tb if it does not
// within d, with the last error. Each call has a second at most.
func poll(tb testing.TB, what string, d time.Duration, check func(ctx context.Context) error) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := check(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redistest: timed out after %v waiting for %s: %v", d, what, err)
		}
		time.Sleep(pollInterval)
	}
}
