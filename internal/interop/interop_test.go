package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/sioparser"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/test/leaktest"
	"github.com/parley-chat/parley/internal/test/testjs"
	"github.com/parley-chat/parley/internal/test/wait"
)

// Environment variables.
const (
	// envDebug=1 logs the server at debug level.
	envDebug = "PARLEY_INTEROP_DEBUG"
)

const (
	// nodeTimeout bounds one run of the node test file.
	nodeTimeout = 45 * time.Second
	// observeTimeout bounds the wait for what the Go handlers record after
	// node has exited (closes travel a little behind the test's end).
	observeTimeout = 3 * time.Second
)

// modes are the client transport configurations of interop.test.mjs.
var modes = []string{"websocket", "polling", "upgrade"}

// What the node side sends; mirrored in test/js/interop.test.mjs.
const (
	token     = "secret"
	authMain  = `{"token":"secret","user":{"name":"Zoë 🌍","tags":["a","b"]},"n":7}`
	authAdmin = `{"token":"secret","role":"admin","nested":{"deep":[1,{"x":null}]}}`
	seqCount  = 500
)

// typedArgs are the arguments of the "typed" event, decoded into Go types.
type typedArgs struct {
	Text  string
	Int   int
	Float float64
	Obj   typedObj
	Big   string
}

type typedObj struct {
	A []any  `json:"a"`
	N *int   `json:"n"`
	T bool   `json:"t"`
	S string `json:"s"`
}

var wantTyped = typedArgs{
	Text:  "héllo wörld 🌍 日本語 \x00 \"quoted\" </script>",
	Int:   42,
	Float: -3.5,
	Obj:   typedObj{A: []any{1.0, 2.0, map[string]any{"b": "c"}}, T: true, S: "line\nbreak\ttab\\"},
	Big:   strings.Repeat("parley-é🌍-", 8000),
}

// wantBinary is what the "bin" event carries, binaries as []byte.
func wantBinary() []any {
	top := make([]byte, 256)
	for i := range top {
		top[i] = byte(i)
	}
	return []any{top, map[string]any{
		"nested": map[string]any{"buf": []byte("héllo")},
		"arr":    []any{[]byte{7, 7, 7}, "x", []byte{}},
	}}
}

// Keys of what the handlers record.
const (
	keyAuth       = "auth "      // + namespace: Handshake().Auth
	keyRefused    = "refused"    // "nsp token" refused by the middleware
	keyTransport  = "transport"  // Socket.Transport() seen by whoami
	keyMux        = "mux"        // "nsp tag" of sockets with a mux query
	keyTyped      = "typed"      // typedArgs
	keyBinary     = "binary"     // []any with []byte binaries
	keyAnswer     = "answer"     // []any: the client's ack of "question"
	keySilent     = "silent"     // error of the unanswered "silent"
	keyNeverAck   = "never-ack"  // Event.HasAck() of "never-ack"
	keySeq        = "seq"        // int, in arrival order
	keyDisconnect = "disconnect" // DisconnectReason
	keyErrors     = "errors"     // handler failures, as strings
)

func TestMain(m *testing.M) { leaktest.Main(m) }

// TestOfficialClient runs test/js/interop.test.mjs against a parley server
// once per transport mode, then checks what the Go handlers received.
func TestOfficialClient(t *testing.T) {
	testjs.RequireNode(t)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			url, rec := startServer(t)
			testjs.Run(t, nodeTimeout, "interop.test.mjs",
				"PARLEY_URL="+url,
				"PARLEY_TRANSPORT="+mode,
				"PARLEY_DEADLINE_MS="+strconv.FormatInt((nodeTimeout-5*time.Second).Milliseconds(), 10),
				"NO_COLOR=1")
			checkObserved(t, rec, mode)
		})
	}
}

// startServer starts a parley server with the test handlers on a loopback
// httptest.Server, and returns its URL and the handlers' recorder.
func startServer(t *testing.T) (string, *recorder) {
	t.Helper()
	level := slog.LevelWarn
	if os.Getenv(envDebug) == "1" {
		level = slog.LevelDebug
	}
	lw := &logWriter{t: t}
	srv := socketio.NewServer(socketio.Config{
		Logger: slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level})),
	})
	rec := &recorder{seen: make(map[string][]any)}
	mount(srv, rec)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		// httptest.Server.Close waits for every request: bound it, so that
		// a stuck handler fails the test instead of hanging it.
		closed := make(chan struct{})
		go func() {
			ts.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Errorf("httptest server did not close: a request is stuck\n%s", buf[:runtime.Stack(buf, true)])
		}
		lw.stop()
	})
	return ts.URL + "/", rec
}

// logWriter sends server logs to the test log until stopped, so that a late
// log line cannot outlive the test.
type logWriter struct {
	mu      sync.Mutex
	t       *testing.T
	stopped bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *logWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// recorder keeps what the handlers observed, by key. It is safe for
// concurrent use.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]any
}

func (r *recorder) add(key string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[key] = append(r.seen[key], v)
}

func (r *recorder) get(key string) []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen[key])
}

// app holds the test handlers.
type app struct {
	rec *recorder
}

// mount installs the middleware and handlers on "/" and "/admin".
func mount(srv *socketio.Server, rec *recorder) {
	a := &app{rec: rec}
	events := map[string]socketio.EventHandler{
		"whoami":         a.whoami,
		"echo":           a.echo,
		"echo-ack":       a.echoAck,
		"typed":          a.typed,
		"bin":            a.binary,
		"bin-please":     a.binPlease,
		"ask-me":         a.askMe,
		"ask-silent":     a.askSilent,
		"never-ack":      a.neverAck,
		"join":           a.join,
		"leave":          a.leave,
		"to-room":        a.toRoom,
		"broadcast":      a.broadcast,
		"sync":           a.sync,
		"kick-me":        a.kickMe,
		"drop-transport": a.dropTransport,
		"seq":            a.seq,
	}
	for _, name := range []string{"/", "/admin"} {
		nsp := srv.Of(name)
		nsp.Use(a.authorize)
		nsp.OnConnection(func(so *socketio.Socket) {
			rec.add(keyAuth+name, so.Handshake().Auth)
			so.OnDisconnect(func(_ *socketio.Socket, reason socketio.DisconnectReason) {
				rec.add(keyDisconnect, reason)
			})
			for event, h := range events {
				so.On(event, h)
			}
			so.OnAny(func(so *socketio.Socket, e *socketio.Event) {
				a.fail("unexpected event %q", e.Name)
			})
		})
	}
}

// fail records a handler failure, reported by checkObserved.
func (a *app) fail(format string, args ...any) {
	a.rec.add(keyErrors, fmt.Sprintf(format, args...))
}

// ack acknowledges e, recording a failure.
func (a *app) ack(e *socketio.Event, args ...any) {
	if err := e.Ack(args...); err != nil {
		a.fail("ack %q: %v", e.Name, err)
	}
}

// bind decodes e's arguments into dst, in order, recording a failure.
func (a *app) bind(e *socketio.Event, dst ...any) bool {
	for i, d := range dst {
		if err := e.Bind(i, d); err != nil {
			a.fail("%q: %v", e.Name, err)
			return false
		}
	}
	return true
}

func (a *app) authorize(so *socketio.Socket) error {
	var auth struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(so.Handshake().Auth, &auth); err != nil || auth.Token != token {
		a.rec.add(keyRefused, so.Namespace().Name()+" "+auth.Token)
		return &socketio.ConnectError{
			Message: "unauthorized",
			Data:    map[string]any{"code": 4001, "reason": "bad token"},
		}
	}
	return nil
}

func (a *app) whoami(so *socketio.Socket, e *socketio.Event) {
	h := so.Handshake()
	tr := so.Transport()
	a.rec.add(keyTransport, tr)
	mux := h.Query().Get("mux")
	if mux != "" {
		a.rec.add(keyMux, so.Namespace().Name()+" "+mux)
	}
	a.ack(e, map[string]any{
		"id":        so.ID(),
		"nsp":       so.Namespace().Name(),
		"auth":      h.Auth,
		"transport": tr,
		"mux":       mux,
	})
}

func (a *app) echo(so *socketio.Socket, e *socketio.Event) {
	if err := so.EmitRaw("echo", e.Args, e.Attachments); err != nil {
		a.fail("echo: %v", err)
	}
}

func (a *app) echoAck(so *socketio.Socket, e *socketio.Event) {
	if err := e.AckRaw(e.Args, e.Attachments); err != nil {
		a.fail("echo-ack: %v", err)
	}
}

func (a *app) typed(so *socketio.Socket, e *socketio.Event) {
	var v typedArgs
	if !a.bind(e, &v.Text, &v.Int, &v.Float, &v.Obj, &v.Big) {
		return
	}
	a.rec.add(keyTyped, v)
	a.ack(e, v.Text, v.Int, v.Float, v.Obj, len(v.Big), v.Big)
}

func (a *app) binary(so *socketio.Socket, e *socketio.Event) {
	vals := make([]any, len(e.Args))
	for i, raw := range e.Args {
		v, err := decodeBinary(raw, e.Attachments)
		if err != nil {
			a.fail("bin: argument %d: %v", i, err)
			return
		}
		vals[i] = v
	}
	a.rec.add(keyBinary, vals)
	a.ack(e, vals...)
}

func (a *app) binPlease(so *socketio.Socket, e *socketio.Event) {
	err := so.Emit("bin-from-server",
		[]byte{0, 1, 2, 253, 254, 255},
		map[string]any{"deep": []any{[]byte("héllo"), map[string]any{"empty": []byte{}}}, "n": 1},
		[][]byte{{1}, {2, 2}},
	)
	if err != nil {
		a.fail("bin-please: %v", err)
	}
	a.ack(e, true)
}

func (a *app) askMe(so *socketio.Socket, e *socketio.Event) {
	err := so.EmitWithAck("question", 5*time.Second, func(reply *sioparser.Message, err error) {
		if err != nil {
			a.fail("question: %v", err)
			return
		}
		var (
			text string
			n    int
			b    []byte
		)
		for i, dst := range []any{&text, &n, &b} {
			if err := reply.Bind(i, dst); err != nil {
				a.fail("question reply: %v", err)
				return
			}
		}
		a.rec.add(keyAnswer, []any{text, n, b})
		if err := so.Emit("answer-seen", text, n, b); err != nil {
			a.fail("answer-seen: %v", err)
		}
	}, "what is six times seven?", 7, []byte{9, 8, 7})
	if err != nil {
		a.fail("ask-me: %v", err)
	}
}

func (a *app) askSilent(so *socketio.Socket, e *socketio.Event) {
	err := so.EmitWithAck("silent", 200*time.Millisecond, func(reply *sioparser.Message, err error) {
		if err == nil {
			a.fail("silent: the client acknowledged")
			return
		}
		a.rec.add(keySilent, err)
		if err := so.Emit("silent-timeout", err.Error()); err != nil {
			a.fail("silent-timeout: %v", err)
		}
	})
	if err != nil {
		a.fail("ask-silent: %v", err)
	}
}

func (a *app) neverAck(so *socketio.Socket, e *socketio.Event) {
	a.rec.add(keyNeverAck, e.HasAck())
}

func (a *app) join(so *socketio.Socket, e *socketio.Event) {
	var room string
	if a.bind(e, &room) {
		so.Join(room)
		a.ack(e)
	}
}

func (a *app) leave(so *socketio.Socket, e *socketio.Event) {
	var room string
	if a.bind(e, &room) {
		so.Leave(room)
		a.ack(e)
	}
}

func (a *app) toRoom(so *socketio.Socket, e *socketio.Event) {
	var (
		rooms []string
		msg   string
	)
	if !a.bind(e, &rooms, &msg) {
		return
	}
	if err := so.To(rooms...).Emit("room-msg", so.ID(), msg); err != nil {
		a.fail("to-room: %v", err)
	}
	a.ack(e)
}

func (a *app) broadcast(so *socketio.Socket, e *socketio.Event) {
	var msg string
	if !a.bind(e, &msg) {
		return
	}
	if err := so.Broadcast().Emit("broadcast-msg", so.ID(), msg); err != nil {
		a.fail("broadcast: %v", err)
	}
	a.ack(e)
}

func (a *app) sync(so *socketio.Socket, e *socketio.Event) { a.ack(e) }

func (a *app) kickMe(so *socketio.Socket, e *socketio.Event) { so.Disconnect(false) }

func (a *app) dropTransport(so *socketio.Socket, e *socketio.Event) { so.CloseTransport() }

func (a *app) seq(so *socketio.Socket, e *socketio.Event) {
	var n int
	if !a.bind(e, &n) {
		return
	}
	a.rec.add(keySeq, n)
	if err := so.Emit("seq", n); err != nil {
		a.fail("seq: %v", err)
	}
}

// decodeBinary decodes an argument into plain Go values (as encoding/json
// does into an any), with each binary placeholder, at any depth, replaced by
// its attachment.
func decodeBinary(raw json.RawMessage, atts [][]byte) (any, error) {
	if b, ok := sioparser.ResolvePlaceholder(raw, atts); ok {
		return b, nil
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, r := range m {
			v, err := decodeBinary(r, atts)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case len(raw) > 0 && raw[0] == '[':
		var s []json.RawMessage
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		out := make([]any, len(s))
		for i, r := range s {
			v, err := decodeBinary(r, atts)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err
}

// checkObserved checks, once node is done, what the Go handlers received.
func checkObserved(t *testing.T, rec *recorder, mode string) {
	wantTransport := "websocket"
	if mode == "polling" {
		wantTransport = "polling"
	}
	tests := []struct {
		name  string
		check func() error
	}{
		{"auth on /", func() error { return containsJSON(rec.get(keyAuth+"/"), authMain) }},
		{"auth on /admin", func() error { return containsJSON(rec.get(keyAuth+"/admin"), authAdmin) }},
		{"middleware refusals", func() error {
			return containsAll(rec.get(keyRefused), "/ wrong", "/admin wrong")
		}},
		{"typed arguments", func() error {
			got := rec.get(keyTyped)
			if len(got) != 1 {
				return fmt.Errorf("got %d typed events, want 1", len(got))
			}
			v := got[0].(typedArgs)
			if v.Big != wantTyped.Big {
				return fmt.Errorf("big string: got %d bytes, want %d", len(v.Big), len(wantTyped.Big))
			}
			if !reflect.DeepEqual(v, wantTyped) {
				w := wantTyped
				v.Big, w.Big = "(equal)", "(equal)"
				return fmt.Errorf("got %+v, want %+v", v, w)
			}
			return nil
		}},
		{"binary from the client", func() error {
			got := rec.get(keyBinary)
			if len(got) != 1 {
				return fmt.Errorf("got %d bin events, want 1", len(got))
			}
			// fmt prints []byte(nil) and []byte{} alike, and maps sorted.
			if g, w := fmt.Sprint(got[0]), fmt.Sprint(wantBinary()); g != w {
				return fmt.Errorf("got %s, want %s", g, w)
			}
			return nil
		}},
		{"client ack of EmitWithAck", func() error {
			got := rec.get(keyAnswer)
			want := []any{"answer", 42, []byte{1, 2, 3}}
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				return fmt.Errorf("got %v, want [%v]", got, want)
			}
			return nil
		}},
		{"EmitWithAck timeout", func() error {
			got := rec.get(keySilent)
			if len(got) != 1 || !errors.Is(got[0].(error), socketio.ErrAckTimeout) {
				return fmt.Errorf("got %v, want [%v]", got, socketio.ErrAckTimeout)
			}
			return nil
		}},
		{"event with ack id, never acked", func() error {
			if got := rec.get(keyNeverAck); len(got) != 1 || got[0] != true {
				return fmt.Errorf("HasAck: got %v, want [true]", got)
			}
			return nil
		}},
		{"events in order", func() error {
			got := rec.get(keySeq)
			if len(got) != seqCount {
				return fmt.Errorf("got %d seq events, want %d", len(got), seqCount)
			}
			for i, n := range got {
				if n != i {
					return fmt.Errorf("seq event %d is %v", i, n)
				}
			}
			return nil
		}},
		{"disconnect reasons", func() error {
			return containsAll(rec.get(keyDisconnect),
				socketio.ReasonServerDisconnect, // Disconnect(false)
				socketio.ReasonForcedClose,      // CloseTransport
				socketio.ReasonClientDisconnect, // socket.disconnect()
			)
		}},
		{"transport", func() error {
			got := rec.get(keyTransport)
			if len(got) == 0 {
				return errors.New("whoami never called")
			}
			for _, tr := range got {
				if tr != wantTransport {
					return fmt.Errorf("got %v, want all %q", got, wantTransport)
				}
			}
			return nil
		}},
		{"multiplexed namespaces", func() error {
			got := rec.get(keyMux)
			tags := map[string]bool{}
			nsps := map[string]bool{}
			for _, v := range got {
				nsp, tag, _ := strings.Cut(v.(string), " ")
				nsps[nsp], tags[tag] = true, true
			}
			if len(tags) != 1 || !nsps["/"] || !nsps["/admin"] {
				return fmt.Errorf("got %v, want / and /admin with one tag", got)
			}
			return nil
		}},
		{"no handler errors", func() error {
			if got := rec.get(keyErrors); len(got) > 0 {
				return fmt.Errorf("handlers failed: %v", got)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait.For(t, tt.name, observeTimeout, tt.check)
		})
	}
}

// containsJSON checks that one of got, json.RawMessage values, is the JSON
// value want.
func containsJSON(got []any, want string) error {
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		return err
	}
	for _, g := range got {
		var v any
		if json.Unmarshal(g.(json.RawMessage), &v) == nil && reflect.DeepEqual(v, w) {
			return nil
		}
	}
	return fmt.Errorf("none of %s is %s", got, want)
}

// containsAll checks that got holds every one of want.
func containsAll[T comparable](got []any, want ...T) error {
	for _, w := range want {
		if !slices.Contains(got, any(w)) {
			return fmt.Errorf("got %v, missing %v", got, w)
		}
	}
	return nil
}
