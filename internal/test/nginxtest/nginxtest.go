// Package nginxtest runs an nginx of the test's own in front of servers
// under test: a load balancer on a free loopback port, configured as
// docs/cluster.md ("Behind nginx") says, with everything it writes (its
// pid file, logs and temporary files) in a directory of the test's own.
// It never touches /etc or /var: nginx runs with -p and -c on that
// directory, in the foreground, as one process that the test starts and
// stops by its pid. It is for tests only.
//
// Tests skip when nginx is missing (Debian's nginx-light), unless
// PARLEY_REQUIRE_NGINX is set, as in CI, which makes them fail.
package nginxtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EnvRequire names the variable that turns a missing nginx from a skip
// into a failure.
const EnvRequire = "PARLEY_REQUIRE_NGINX"

// DefaultPath is where Debian installs nginx, for when it is not on PATH
// (/usr/sbin is not on every user's).
const DefaultPath = "/usr/sbin/nginx"

// Binary returns the path of nginx, or skips the test (fails it when
// PARLEY_REQUIRE_NGINX is set) when there is none.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if fi, err := os.Stat(DefaultPath); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return DefaultPath
	}
	if os.Getenv(EnvRequire) != "" {
		tb.Fatalf("nginxtest: nginx is neither on PATH nor at %s, and %s is set (apt-get install nginx-light)", DefaultPath, EnvRequire)
	}
	tb.Skipf("skipped: the test needs nginx, on PATH or at %s (apt-get install nginx-light)", DefaultPath)
	return ""
}

// Server is an nginx that a test started (Start). Its methods are safe for
// concurrent use.
type Server struct {
	// Addr is the host:port nginx listens on, URL the same as http://Addr.
	Addr, URL string
	// Dir is nginx's prefix: its configuration, logs and temporary files.
	Dir string

	tb   testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when nginx has exited
	err  error         // cmd.Wait's, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer
	probes int // requests made by Route
}

// Start starts nginx on a free loopback port, balancing between upstreams
// (host:port of each server) as Config says, and returns once it accepts
// connections. The test's cleanup stops it.
func Start(tb testing.TB, upstreams []string) *Server {
	tb.Helper()
	bin := Binary(tb)
	mods := modules(tb, bin)
	// The port is free when chosen; another process may take it before
	// nginx binds it: then try another.
	var lastErr error
	for range 3 {
		s, err := start(tb, bin, mods, upstreams)
		if err == nil {
			return s
		}
		lastErr = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	tb.Fatalf("nginxtest: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin string, mods map[string]bool, upstreams []string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("choosing a port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := tb.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(Config(addr, upstreams, mods)), 0o600); err != nil {
		return nil, err
	}
	s := &Server{Addr: addr, URL: "http://" + addr, Dir: dir, tb: tb, done: make(chan struct{})}
	// -e: the error log of the start, before the configuration is read,
	// which would otherwise be the one nginx was built with.
	s.cmd = exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "error.log"),
		"-g", "daemon off; master_process off;")
	s.cmd.Dir = dir
	s.cmd.Stdout = &lockedWriter{s}
	s.cmd.Stderr = &lockedWriter{s}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	tb.Cleanup(func() {
		s.Stop()
		if tb.Failed() {
			tb.Logf("nginx's error log:\n%s", s.ErrorLog())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("nginx exited at its start: %v\n%s", s.err, s.ErrorLog())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("nginx does not accept connections on %s within 10 s\n%s", addr, s.ErrorLog())
		}
	}
}

// Config returns the configuration of an nginx listening on listen (a
// loopback host:port) in front of upstreams, as docs/cluster.md gives it,
// with what a test adds: every file nginx writes is under its prefix (the
// temporary directories of the modules it was built with, mods, as
// modules finds them), and the access log says which upstream served each
// request (AccessLog).
func Config(listen string, upstreams []string, mods map[string]bool) string {
	var b strings.Builder
	b.WriteString(`# Written by nginxtest; every path is under the prefix (-p).
pid nginx.pid;
lock_file nginx.lock;
error_log error.log info;

events {
    worker_connections 1024;
}

http {
    log_format upstream '$remote_addr $status "$request" upstream="$upstream_addr"';
    access_log access.log upstream;

    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
`)
	for _, m := range []string{"fastcgi", "uwsgi", "scgi"} {
		if mods[m] {
			fmt.Fprintf(&b, "    %s_temp_path tmp/%s;\n", m, m)
		}
	}
	b.WriteString(`
    # "Connection: upgrade" for a WebSocket handshake, "close" otherwise.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    upstream parley {
        # A client address always goes to the same node, while that node is
        # up: the requests of one long-polling session must reach the node
        # that holds it.
        hash $remote_addr consistent;
`)
	for _, u := range upstreams {
		fmt.Fprintf(&b, "        server %s;\n", u)
	}
	fmt.Fprintf(&b, `    }

    server {
        listen %s;

        location / {
            proxy_pass http://parley;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Above the ping interval and timeout (25 s + 20 s): parley's
            # heartbeat, not nginx, decides when a connection is dead.
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
            # A node that refuses or does not answer the connection: the
            # request goes to the next one.
            proxy_connect_timeout 5s;
            proxy_next_upstream error timeout;
            client_max_body_size 1m;
        }
    }
}
`, listen)
	return b.String()
}

// modules returns which of the modules with temporary directories
// (fastcgi, uwsgi, scgi) bin was built with: each needs its directory
// under the prefix, or nginx makes the one it was built with, under /var.
func modules(tb testing.TB, bin string) map[string]bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-V").CombinedOutput()
	if err != nil {
		tb.Fatalf("nginxtest: %s -V: %v\n%s", bin, err, out)
	}
	mods := make(map[string]bool)
	for _, m := range []string{"fastcgi", "uwsgi", "scgi"} {
		mods[m] = !bytes.Contains(out, []byte("--without-http_"+m+"_module"))
	}
	return mods
}

// Stop stops nginx, by its pid: SIGTERM, then SIGKILL if it has not exited
// within 5 s. It returns once nginx has exited, and may be called more
// than once.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// PID returns nginx's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// ErrorLog returns nginx's error log, and what it wrote on its standard
// output and error.
func (s *Server) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "error.log"))
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(b) + s.stderr.String()
}

// Entry is one line of the access log: one request, written once it has
// ended (a WebSocket's, when the connection closes).
type Entry struct {
	// Client is the client's address, as nginx saw it.
	Client string
	// Status is the HTTP status of the answer (101 for a WebSocket).
	Status int
	// Method and URI are those of the request.
	Method, URI string
	// Upstreams are the servers nginx tried, in order: the last one
	// answered, the ones before it failed. None when nginx answered by
	// itself.
	Upstreams []string
}

// Upstream returns the server that answered, "" when none did.
func (e Entry) Upstream() string {
	if len(e.Upstreams) == 0 {
		return ""
	}
	return e.Upstreams[len(e.Upstreams)-1]
}

// entryRE matches a line of the log_format "upstream" of Config.
var entryRE = regexp.MustCompile(`^(\S+) (\d{3}) "(\S+) (\S+)[^"]*" upstream="([^"]*)"$`)

// AccessLog returns the requests logged so far, in the order they ended.
func (s *Server) AccessLog() ([]Entry, error) {
	f, err := os.Open(filepath.Join(s.Dir, "access.log"))
	if err != nil {
		return nil, fmt.Errorf("nginxtest: %w", err)
	}
	defer f.Close()
	var es []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := entryRE.FindStringSubmatch(sc.Text())
		if m == nil {
			// A line being written as we read: it is complete at the
			// next read.
			continue
		}
		e := Entry{Client: m[1], Method: m[3], URI: m[4]}
		fmt.Sscan(m[2], &e.Status)
		if m[5] != "-" {
			for _, u := range strings.Split(m[5], ",") {
				// A request passed between upstream groups has " : "
				// between them; there is one group here.
				e.Upstreams = append(e.Upstreams, strings.TrimSpace(u))
			}
		}
		es = append(es, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("nginxtest: reading the access log: %w", err)
	}
	return es, nil
}

// From returns an HTTP client whose connections come from the loopback
// address from (127.0.0.2, 127.0.0.3...: Linux answers for all of
// 127.0.0.0/8), as if from another client: "hash $remote_addr" sends its
// requests where it sends that address's. It keeps no connection open.
func From(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
	}
}

// Route returns the upstream that nginx sends the requests of the client
// address from to, now: it asks for path from it and reads in the access
// log which upstream answered, checking that nginx saw the request come
// from there. Any answer but a 5xx of nginx's own will do.
func (s *Server) Route(tb testing.TB, from, path string) string {
	tb.Helper()
	s.mu.Lock()
	s.probes++
	uri := fmt.Sprintf("%s?nginxtest-probe=%d", path, s.probes)
	s.mu.Unlock()
	resp, err := From(from).Get(s.URL + uri)
	if err != nil {
		tb.Fatalf("nginxtest: GET %s from %s: %v", uri, from, err)
	}
	resp.Body.Close()
	var e Entry
	err = s.WaitFor(5*time.Second, func(es []Entry) bool {
		for _, x := range es {
			if x.URI == uri {
				e = x
				return true
			}
		}
		return false
	})
	if err != nil {
		tb.Fatalf("nginxtest: GET %s from %s: %v", uri, from, err)
	}
	if e.Client != from || e.Upstream() == "" {
		tb.Fatalf("nginxtest: GET %s from %s: logged as %+v", uri, from, e)
	}
	return e.Upstream()
}

// WaitFor reads the access log until cond holds of it, for up to d.
func (s *Server) WaitFor(d time.Duration, cond func([]Entry) bool) error {
	deadline := time.Now().Add(d)
	for {
		es, err := s.AccessLog()
		if err != nil {
			return err
		}
		if cond(es) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nginxtest: the access log does not say what was awaited within %v (%d lines)", d, len(es))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedWriter appends to s.stderr under s.mu.
type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.stderr.Write(p)
}
