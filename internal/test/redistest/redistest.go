// Package redistest gives tests a Redis of their own: a client of the
// server named by PARLEY_TEST_REDIS, and a key prefix of their own, whose
// keys are deleted when the test ends. Tests skip when the variable is
// unset. It is for tests only.
package redistest

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"strings"
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
// redis-server is not installed.
func Server(tb testing.TB) *LocalServer {
	tb.Helper()
	URL(tb)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("Redis tests that start their own server skipped: no redis-server in PATH")
	}
	s := &LocalServer{tb: tb, bin: bin, dir: tb.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	_ = ln.Close()
	s.Start()
	tb.Cleanup(s.Stop)
	return s
}

// LocalServer is a redis-server that a test started (see Server).
type LocalServer struct {
	// Addr is the server's host:port.
	Addr string

	tb  testing.TB
	bin string
	dir string
	cmd *exec.Cmd
}

// URL returns the URL of the server's database 0.
func (s *LocalServer) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts the server (again, after Stop) on its address, and waits
// until it answers.
func (s *LocalServer) Start() {
	s.tb.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--protected-mode", "no")
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatalf("starting redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("redis-server on %s does not answer: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, if it runs, and waits for it to end.
func (s *LocalServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
