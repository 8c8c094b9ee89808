package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pollServer is a fake Engine.IO server over long-polling, of one
// session: each poll gets the next of its polls, written as mode says,
// and each POST's body goes to posts.
type pollServer struct {
	url   string
	polls chan string
	posts chan string
	conns atomic.Int32 // connections accepted
	held  atomic.Int32 // polls waiting
}

// waitHeld waits until n polls are held.
func (s *pollServer) waitHeld(t *testing.T, n int32) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); s.held.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d polls held, want %d", s.held.Load(), n)
		}
	}
}

// Ways a pollServer writes its answers.
const (
	modeLength  = "length"  // with a Content-Length
	modeChunked = "chunked" // chunked
	modeClose   = "close"   // with Connection: close
)

func newPollServer(t *testing.T, mode string, idle time.Duration) *pollServer {
	t.Helper()
	s := &pollServer{polls: make(chan string, 16), posts: make(chan string, 16)}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mode == modeClose {
			w.Header().Set("Connection", "close")
		}
		var body string
		switch {
		case r.Method == http.MethodPost:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			s.posts <- string(b)
			body = "ok"
		case r.URL.Query().Get("sid") == "":
			body = openPacket
		default:
			s.held.Add(1)
			defer s.held.Add(-1)
			select {
			case body = <-s.polls:
			case <-r.Context().Done():
				return
			}
			if r.Context().Err() != nil {
				s.polls <- body // for the next poll: this one's client is gone
				return
			}
		}
		if mode == modeChunked {
			w.(http.Flusher).Flush()
		}
		_, _ = io.WriteString(w, body)
	}))
	ts.Config.IdleTimeout = idle
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	s.url = ts.URL
	return s
}

// dialTestPolling opens a polling link to url.
func dialTestPolling(t *testing.T, url string) *pollLink {
	t.Helper()
	r, err := newRunner(Config{URL: url, Transport: TransportPolling, Clients: 1, Senders: 1, Rate: 1}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, open, err := dialPolling(ctx, r.clients[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(open) != openPacket {
		t.Fatalf("open packet %q", open)
	}
	pl := l.(*pollLink)
	t.Cleanup(func() { pl.close(false, 0) })
	pl.extend(5 * time.Second)
	return pl
}

func TestPollLink(t *testing.T) {
	tests := []struct {
		mode      string
		wantConns int32 // after the handshake, 3 polls and 2 POSTs
	}{
		{modeLength, 2},
		{modeChunked, 2},
		{modeClose, 6},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			s := newPollServer(t, tt.mode, 0)
			l := dialTestPolling(t, s.url)
			if err := l.write([]byte("40")); err != nil {
				t.Fatal(err)
			}
			if err := l.write([]byte("42[\"new-user\",\"x\"]")); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"40", "42[\"new-user\",\"x\"]"} {
				if got := <-s.posts; got != want {
					t.Errorf("posted %q, want %q", got, want)
				}
			}
			s.polls <- "40{\"sid\":\"x\"}\x1e42[\"a\"]"
			s.polls <- "2"
			s.polls <- "42[\"b\"]\x1e1"
			var got []string
			err := l.readLoop(func(p []byte) bool {
				got = append(got, string(p))
				return len(got) < 5
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := "40{\"sid\":\"x\"} 42[\"a\"] 2 42[\"b\"] 1"; strings.Join(got, " ") != want {
				t.Errorf("packets %q, want %s", got, want)
			}
			if n := s.conns.Load(); n != tt.wantConns {
				t.Errorf("%d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

// TestPollLinkIdle has the server close the POST connection while idle:
// the next POST goes on a new one.
func TestPollLinkIdle(t *testing.T) {
	t.Parallel()
	s := newPollServer(t, modeLength, 50*time.Millisecond)
	l := dialTestPolling(t, s.url)
	for i := range 3 {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		if err := l.write([]byte("3")); err != nil {
			t.Fatalf("POST %d: %v", i, err)
		}
		<-s.posts
	}
	if n := s.conns.Load(); n < 3 {
		t.Errorf("%d connections, want at least 3", n)
	}
}

// TestPollLinkClose checks that close ends a pending poll, and probe's
// reading of a held poll.
func TestPollLinkClose(t *testing.T) {
	t.Parallel()
	s := newPollServer(t, modeLength, 0)
	l := dialTestPolling(t, s.url)
	if err := l.probe(100*time.Millisecond, 0); err != nil {
		t.Errorf("probe of a held poll: %v", err)
	}
	s.waitHeld(t, 0) // the server saw the probe's poll go
	s.polls <- "6\x1e1"
	if err := l.probe(time.Second, 0); !errors.Is(err, ErrServerClose) {
		t.Errorf("probe of a closed session: %v, want %v", err, ErrServerClose)
	}
	done := make(chan error, 1)
	go func() { done <- l.readLoop(func([]byte) bool { return true }) }()
	s.waitHeld(t, 1)
	l.close(false, 0)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("read loop ended with %v, want %v", err, context.Canceled)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("close left the poll pending")
	}
	if err := l.write([]byte("3")); !errors.Is(err, context.Canceled) {
		t.Errorf("POST after close: %v, want %v", err, context.Canceled)
	}
}

// TestPollLinkErrors checks the errors of polls: a refusal, an answer
// too large, a deadline.
func TestPollLinkErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
		text    string
	}{
		{
			name:    "refused",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadRequest) },
			want:    ErrStatus, text: ErrStatus.Error() + ": GET: HTTP 400",
		},
		{
			name: "too large",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write(make([]byte, maxFrame+1))
			},
			want: ErrFrameTooLarge,
		},
		{
			name: "too large, chunked",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 2 {
					_, _ = w.Write(make([]byte, maxFrame/2+1))
					w.(http.Flusher).Flush()
				}
			},
			want: ErrFrameTooLarge,
		},
		{
			name: "late",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			want: errTimeout,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var first atomic.Bool
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("sid") == "" && first.CompareAndSwap(false, true) {
					_, _ = io.WriteString(w, openPacket)
					return
				}
				tt.handler(w, r)
			}))
			t.Cleanup(ts.Close)
			l := dialTestPolling(t, ts.URL)
			l.extend(200 * time.Millisecond)
			err := l.readLoop(func([]byte) bool { return true })
			if tt.want == errTimeout {
				if errKind(err) != "timeout" {
					t.Errorf("error %v, want a timeout", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || (tt.text != "" && err.Error() != tt.text) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// errTimeout stands for any timeout in TestPollLinkErrors.
var errTimeout = errors.New("timeout")
