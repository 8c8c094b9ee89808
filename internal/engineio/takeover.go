package engineio

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parley-chat/parley/internal/eioparser"
	"github.com/parley-chat/parley/internal/netpoll"
)

// Long polls, taken over from net/http.
//
// Over net/http, each poll costs a request's goroutine, its header maps,
// the background read net/http starts to notice a client that goes away,
// and a wake-up of the goroutine when something is queued: as much CPU as
// the delivery itself, or more. On a server whose listener is
// PollListener's, the first long-polling GET of a session that reaches
// net/http takes its connection over (Hijack), and from then on the server
// reads that connection on its poller, as it reads WebSocket connections,
// and answers the polls and POSTs on it itself: a waiting poll holds no
// goroutine, and is answered by one short-lived goroutine when something
// is queued, in one write.
//
// The requests it answers itself are only those parsePollRequest is sure
// of (pollreq.go), for the same host, origin and proxy headers as the
// request the connection was taken over with. Anything else on the
// connection (a page, a WebSocket upgrade, a handshake, a POST whose body
// has not all arrived) hands the connection back to net/http, with what
// was read of it, through the listener.

// Bounds of a connection taken over.
const (
	// takenHeaderTimeout bounds the arrival of a request's line and
	// headers, as parley's http.Server's ReadHeaderTimeout does.
	takenHeaderTimeout = 10 * time.Second
	// takenIdleTimeout closes a connection with no request for that long,
	// as parley's http.Server's IdleTimeout does.
	takenIdleTimeout = 2 * time.Minute
	// takenMaxHeader bounds a request's line and headers, as parley's
	// http.Server does (16 KiB).
	takenMaxHeader = 16 << 10
	// sweepEvery is how often the timeouts above are checked.
	sweepEvery = time.Second
)

// PollListener returns a listener for the http.Server that serves srv: it
// yields l's connections, and those srv hands back. Through it, srv takes
// the connections of long polls over from net/http (see the comment at the
// top of takeover.go). Without it, every poll is net/http's.
func (srv *Server) PollListener(l net.Listener) net.Listener {
	hl := &handBackListener{
		Listener: l,
		accepted: make(chan acceptResult),
		back:     make(chan net.Conn),
		done:     make(chan struct{}),
	}
	go hl.pump()
	srv.taken.mu.Lock()
	srv.taken.listener = hl
	srv.taken.mu.Unlock()
	return hl
}

// takenConns are the connections a server took over.
type takenConns struct {
	mu       sync.Mutex
	listener *handBackListener // nil: nothing is taken over
	conns    map[*pollConn]struct{}
	sweeping bool // the sweep goroutine runs
	closed   bool // Shutdown closed them all

	date  atomic.Pointer[cachedDate] // the answers' Date header
	clock atomic.Int64               // the sweep's last time, unix nanoseconds

	// Polls to answer, in order, and the goroutines answering them.
	answerMu  sync.Mutex
	toAnswer  []*pollConn
	answering int
}

// maxAnswering bounds the goroutines that answer polls: a broadcast wakes
// the polls of everyone in a room at once, and a few goroutines answer
// them in turn rather than one started for each (its stack grown again,
// the scheduler busy with them all). An answer never waits on the network
// (pollConn.write), so a few are enough.
const maxAnswering = 4

// queueAnswer has pc's waiting poll answered by one of the answering
// goroutines.
func (srv *Server) queueAnswer(pc *pollConn) {
	t := &srv.taken
	t.answerMu.Lock()
	t.toAnswer = append(t.toAnswer, pc)
	start := t.answering < maxAnswering
	if start {
		t.answering++
	}
	t.answerMu.Unlock()
	if start {
		srv.poller.Go(srv.answerPolls)
	}
}

// answerPolls answers queued polls until none is left.
func (srv *Server) answerPolls() {
	t := &srv.taken
	for {
		t.answerMu.Lock()
		if len(t.toAnswer) == 0 {
			t.answering--
			if cap(t.toAnswer) > 1024 {
				t.toAnswer = nil // a burst's array is not kept
			}
			t.answerMu.Unlock()
			return
		}
		pc := t.toAnswer[0]
		t.toAnswer[0] = nil
		t.toAnswer = t.toAnswer[1:]
		t.answerMu.Unlock()
		pc.answerWaiting()
	}
}

// now returns the time of the last sweep: timeouts are checked once a
// sweep, and need no finer clock.
func (t *takenConns) now() int64 { return t.clock.Load() }

// tick sets the clock and the Date header to now.
func (t *takenConns) tick(now time.Time) {
	t.clock.Store(now.UnixNano())
	t.date.Store(&cachedDate{now.Unix(), now.UTC().Format(http.TimeFormat)})
}

// handBackListener is PollListener's listener.
type handBackListener struct {
	net.Listener
	accepted  chan acceptResult
	back      chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

type acceptResult struct {
	c   net.Conn
	err error
}

// pump accepts l's connections until it is closed.
func (l *handBackListener) pump() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.done:
			if c != nil {
				_ = c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Accept returns the next connection accepted or handed back.
func (l *handBackListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.accepted:
		return r.c, r.err
	case c := <-l.back:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close closes the listener; connections handed back later are closed.
func (l *handBackListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// handBack gives c to net/http, or closes it once the listener is closed.
func (l *handBackListener) handBack(c net.Conn) {
	select {
	case l.back <- c:
	case <-l.done:
		_ = c.Close()
	}
}

// returnedConn is a connection handed back to net/http, with the bytes
// read from it that no request used yet.
type returnedConn struct {
	net.Conn
	mu      sync.Mutex
	pending []byte
}

// Read reads the pending bytes first.
func (c *returnedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		c.mu.Unlock()
		return n, nil
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// SyscallConn is the connection's, once the pending bytes are read: a
// reader of the raw connection would miss them.
func (c *returnedConn) SyscallConn() (syscall.RawConn, error) {
	c.mu.Lock()
	pending := len(c.pending) > 0
	c.mu.Unlock()
	sc, ok := c.Conn.(syscall.Conn)
	if pending || !ok {
		return nil, errors.New("engineio: no raw connection")
	}
	return sc.SyscallConn()
}

// SetWriteBuffer sets the connection's kernel send buffer, where it has
// one.
func (c *returnedConn) SetWriteBuffer(n int) error {
	if wb, ok := c.Conn.(interface{ SetWriteBuffer(int) error }); ok {
		return wb.SetWriteBuffer(n)
	}
	return errors.New("engineio: no send buffer to set")
}

// CloseWrite shuts the connection's write side, where it can.
func (c *returnedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("engineio: cannot half-close")
}

// pollConn is a connection taken over from net/http.
type pollConn struct {
	srv *Server
	nc  net.Conn
	rc  syscall.RawConn
	lim pollLimits
	// What the requests on it must match: the request it was taken over
	// with had them, and passed the checks of the handlers in front.
	host      string
	origin    []byte // nil: none
	forwarded [3][]byte
	// header holds the header lines every answer carries: those the
	// handlers in front set on the first answer.
	header []byte
	// workAsync is work, off the poller's goroutine, bound once.
	workAsync func()

	// The busy goroutine's: what was read and not yet handled, and the
	// pooled read buffer in holds, if it is one.
	in       []byte
	inPool   *[]byte
	reqClose bool // the request being answered said Connection: close

	mu       sync.Mutex
	reg      *netpoll.Registration
	busy     bool     // a goroutine reads and handles requests
	readable bool     // the poller said there is something to read
	waiting  *Session // the session whose GET waits on this connection
	closed   bool
	since    int64 // idle since, or the head of a request in in arriving since (takenConns.now)
	partial  bool  // in holds the beginning of a request, and no more came since
}

// takeOver takes the connection of r, a GET of s whose poll has just
// begun (checkPoll), over from net/http, and answers the poll on it. It
// returns false, leaving the poll to net/http, when the server has no
// PollListener or no poller, or the request is not one to take over.
func (srv *Server) takeOver(w http.ResponseWriter, r *http.Request, s *Session) bool {
	srv.taken.mu.Lock()
	listener := srv.taken.listener != nil && !srv.taken.closed
	srv.taken.mu.Unlock()
	if !listener || srv.poller == nil || r.TLS != nil || r.ProtoMajor != 1 || r.ProtoMinor != 1 || r.Close {
		return false
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	// The answer headers the handlers in front set: the same for every
	// answer on the connection.
	var header []byte
	for k, vs := range w.Header() {
		switch k {
		case "Content-Type", "Content-Length", "Cache-Control", "Date", "Connection", "Set-Cookie", "Transfer-Encoding", "X-Content-Type-Options":
			continue
		}
		for _, v := range vs {
			if !validValue([]byte(v)) {
				return false
			}
			header = append(append(append(append(header, k...), ": "...), v...), "\r\n"...)
		}
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		// The answer is lost with the connection.
		s.logger().Debug("taking a poll over", logKeyError, err)
		s.pollCut()
		return true
	}
	pc := &pollConn{
		srv:       srv,
		nc:        nc,
		lim:       pollLimits{path: r.URL.Path, maxHeader: takenMaxHeader, maxBody: srv.cfg.MaxPayload},
		host:      r.Host,
		forwarded: forwardedValues(r.Header),
		header:    header,
		busy:      true,
		since:     time.Now().UnixNano(),
	}
	pc.workAsync = func() { pc.work(false) }
	if o := r.Header.Values("Origin"); len(o) > 0 {
		pc.origin = []byte(o[0])
	}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		pc.in = bytes.Clone(b)
	}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			pc.rc = rc
		}
	}
	if pc.rc == nil || !srv.track(pc) {
		pc.answerAndClose(s)
		return true
	}
	reg, err := srv.poller.AddInline(pc.rc, pc.onReadable)
	if err != nil {
		srv.untrack(pc)
		pc.answerAndClose(s)
		return true
	}
	pc.mu.Lock()
	pc.reg = reg
	pc.mu.Unlock()
	pc.poll(s)
	pc.work(false)
	return true
}

// answerAndClose answers s's poll, begun, on a connection the poller
// cannot read (none without a file descriptor; or registered after
// Shutdown), then closes it: the client's next poll comes on another.
func (pc *pollConn) answerAndClose(s *Session) {
	pc.reqClose = true
	pc.closed = true
	pc.srv.awaitPoll(s, pc, nil)
	_ = pc.nc.Close()
}

// track adds pc to the server's connections; false once they are closed.
func (srv *Server) track(pc *pollConn) bool {
	t := &srv.taken
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[*pollConn]struct{})
	}
	t.conns[pc] = struct{}{}
	if !t.sweeping {
		t.sweeping = true
		t.tick(time.Now())
		go srv.sweep()
	}
	return true
}

func (srv *Server) untrack(pc *pollConn) {
	srv.taken.mu.Lock()
	delete(srv.taken.conns, pc)
	srv.taken.mu.Unlock()
}

// sweep closes, every sweepEvery, the connections idle too long or whose
// request's head is too slow to arrive, until none is left.
func (srv *Server) sweep() {
	t := &srv.taken
	every := sweepEvery
	if srv.cfg.sweepEvery > 0 {
		every = srv.cfg.sweepEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var late []*pollConn
	for now := range tick.C {
		t.tick(now)
		t.mu.Lock()
		if len(t.conns) == 0 || t.closed {
			t.sweeping = false
			t.mu.Unlock()
			return
		}
		late = late[:0]
		for pc := range t.conns {
			pc.mu.Lock()
			// Only a connection open and not busy has an in that no
			// goroutine changes: the busy one owns it.
			if !pc.closed && !pc.busy && pc.waiting == nil {
				limit := takenIdleTimeout
				if len(pc.in) > 0 {
					limit = takenHeaderTimeout
				}
				if time.Duration(now.UnixNano()-pc.since) > limit {
					late = append(late, pc)
				}
			}
			pc.mu.Unlock()
		}
		t.mu.Unlock()
		for _, pc := range late {
			pc.close()
		}
		clear(late)
	}
}

// closeTaken closes every connection taken over, once the sessions are
// gone (Shutdown).
func (srv *Server) closeTaken() {
	t := &srv.taken
	t.mu.Lock()
	t.closed = true
	all := make([]*pollConn, 0, len(t.conns))
	for pc := range t.conns {
		all = append(all, pc)
	}
	t.mu.Unlock()
	for _, pc := range all {
		pc.close()
	}
}

// close closes the connection. A poll still waiting on it is cut.
func (pc *pollConn) close() {
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return
	}
	pc.closed = true
	reg, s := pc.reg, pc.waiting
	pc.waiting = nil
	pc.mu.Unlock()
	if s != nil && s.dropWaiter(pc) {
		s.pollCut()
	}
	if reg != nil {
		reg.Remove()
	}
	_ = pc.nc.Close()
	pc.srv.untrack(pc)
}

// dropWaiter forgets pc as the connection s's poll waits on; it returns
// false when pc was not (an answer is on its way).
func (s *Session) dropWaiter(pc *pollConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pollWaiter != pc {
		return false
	}
	s.pollWaiter = nil
	return true
}

// onReadable is the poller's call, on its own goroutine (AddInline): data
// arrived, or the client closed its end.
func (pc *pollConn) onReadable() {
	pc.mu.Lock()
	pc.readable = true
	if pc.busy || pc.closed {
		pc.mu.Unlock()
		return // the busy goroutine reads it
	}
	pc.busy = true
	pc.mu.Unlock()
	pc.work(true)
}

// work reads and handles requests until there is nothing to do: no data,
// or a poll waiting. Only one goroutine at a time works (pc.busy). Inline,
// on the poller's goroutine, it must not wait: a POST, whose handling may,
// is left to a goroutine of the poller's (workAsync).
func (pc *pollConn) work(inline bool) {
	for {
		pc.mu.Lock()
		if pc.closed {
			pc.busy = false
			pc.mu.Unlock()
			pc.unpool()
			return
		}
		readable := pc.readable
		pc.readable = false
		waiting := pc.waiting != nil
		if !readable && (waiting || len(pc.in) == 0 || pc.partial) {
			pc.busy = false
			pc.mu.Unlock()
			return
		}
		pc.mu.Unlock()
		if readable && !pc.read(waiting) {
			return
		}
		if !waiting && !pc.serveIn(inline) {
			return
		}
	}
}

// read reads what there is. It returns false when the connection ended.
func (pc *pollConn) read(waiting bool) bool {
	bufp := readBuffers.Get().(*[]byte)
	n, err := netpoll.ReadNonblocking(pc.rc, *bufp)
	switch {
	case n > 0 && len(pc.in) == 0 && pc.inPool == nil:
		pc.in, pc.inPool = (*bufp)[:n], bufp
	case n > 0:
		pc.in = append(pc.in, (*bufp)[:n]...)
		readBuffers.Put(bufp)
	default:
		readBuffers.Put(bufp)
	}
	if err != nil && !errors.Is(err, netpoll.ErrWouldBlock) {
		pc.endBusy()
		return false
	}
	if n > 0 {
		pc.mu.Lock()
		if len(pc.in) == n {
			pc.since = pc.srv.taken.now() // a request's head begins
		}
		pc.partial = false // parse again
		// A full buffer may have left more behind, of which the poller
		// says nothing more (edge-triggered).
		pc.readable = pc.readable || n == len(*bufp)
		pc.mu.Unlock()
	}
	if waiting && len(pc.in) > takenMaxHeader+pc.lim.maxBody {
		// Requests behind a pending poll, past all bounds.
		pc.endBusy()
		return false
	}
	if waiting {
		pc.unpool()
	}
	return true
}

// endBusy closes the connection from the busy goroutine.
func (pc *pollConn) endBusy() {
	pc.mu.Lock()
	pc.busy = false
	pc.mu.Unlock()
	pc.close()
	pc.unpool()
}

// unpool makes pc.in a slice of its own, giving the read buffer it was
// back to the pool: before a request is handled, which may wait, and
// before the connection is left waiting for more. Only the busy goroutine
// calls it, or close once none is.
func (pc *pollConn) unpool() {
	if pc.inPool == nil {
		if len(pc.in) == 0 {
			pc.in = nil
		}
		return
	}
	if len(pc.in) > 0 {
		pc.in = bytes.Clone(pc.in)
	} else {
		pc.in = nil
	}
	readBuffers.Put(pc.inPool)
	pc.inPool = nil
}

// serveIn handles the requests in pc.in. It returns false when the busy
// goroutine must stop: the connection was handed back or closed, or, inline,
// a POST was left to another goroutine, which is busy from now on.
func (pc *pollConn) serveIn(inline bool) bool {
	for len(pc.in) > 0 {
		req, res := parsePollRequest(pc.in, pc.lim)
		if res == parseOK && !pc.sameAsFirst(&req) {
			res = parseHandBack
		}
		if res == parseIncomplete && len(pc.in) >= req.headerLen && req.headerLen > 0 {
			// A POST whose body is still on its way: net/http reads it,
			// under its deadline.
			res = parseHandBack
		}
		switch res {
		case parseIncomplete:
			pc.unpool()
			pc.mu.Lock()
			pc.partial = true
			pc.mu.Unlock()
			return true
		case parseHandBack:
			pc.handBack()
			return false
		}
		if req.post && inline {
			pc.unpool()
			pc.srv.poller.Go(pc.workAsync)
			return false
		}
		n := req.headerLen + req.contentLength
		var body []byte
		if req.post {
			body = bytes.Clone(pc.in[req.headerLen:n])
		}
		pc.in = pc.in[n:]
		pc.unpool()
		pc.mu.Lock()
		pc.since = pc.srv.taken.now()
		pc.mu.Unlock()
		pc.reqClose = req.close
		if !pc.handle(&req, body) {
			return true // waiting; work sees it
		}
		if pc.reqClose {
			pc.endBusy()
			return false
		}
	}
	pc.unpool()
	return true
}

// sameAsFirst reports whether req names the host, origin and proxy
// headers of the request the connection was taken over with.
func (pc *pollConn) sameAsFirst(req *pollRequest) bool {
	if string(req.host) != pc.host || (req.origin == nil) != (pc.origin == nil) || !bytes.Equal(req.origin, pc.origin) {
		return false
	}
	for i := range req.forwarded {
		if !bytes.Equal(req.forwarded[i], pc.forwarded[i]) {
			return false
		}
	}
	return true
}

// handBack gives the connection, and what was read of it, back to
// net/http.
func (pc *pollConn) handBack() {
	pc.mu.Lock()
	pc.closed = true // for this server; net/http's from now on
	pc.busy = false
	reg := pc.reg
	pc.mu.Unlock()
	reg.Remove()
	pending := bytes.Clone(pc.in)
	pc.in = nil
	pc.unpool()
	pc.srv.untrack(pc)
	pc.srv.taken.mu.Lock()
	l := pc.srv.taken.listener
	pc.srv.taken.mu.Unlock()
	go l.handBack(&returnedConn{Conn: pc.nc, pending: pending})
}

// handle answers a request. It returns false when it is a GET left
// waiting.
func (pc *pollConn) handle(req *pollRequest, body []byte) bool {
	srv := pc.srv
	srv.mu.Lock()
	s := srv.sessions[req.sid]
	srv.mu.Unlock()
	if s == nil {
		pc.writeError(errUnknownSID)
		return true
	}
	if !req.post {
		if !srv.checkPoll(s) {
			pc.writeError(errBadRequest)
			return true
		}
		return pc.poll(s)
	}
	if e := srv.beginPost(s); e != nil {
		pc.writeError(*e)
		return true
	}
	e := srv.postBody(s, body)
	s.endPost()
	if e != nil {
		pc.writeError(*e)
		return true
	}
	_ = pc.writeAnswer(nil, 200, "text/html", []byte("ok"))
	return true
}

// poll answers s's poll, begun, now if there is something to answer with;
// otherwise it leaves the poll waiting on pc, and returns false. The
// caller is pc's busy goroutine.
func (pc *pollConn) poll(s *Session) bool {
	s.mu.Lock()
	a, ok := s.pollAnswerLocked()
	if !ok {
		pc.mu.Lock()
		if pc.closed {
			pc.mu.Unlock()
			s.mu.Unlock()
			s.pollCut()
			return true
		}
		pc.waiting = s
		pc.mu.Unlock()
		s.pollWaiter = pc
		s.mu.Unlock()
		return false
	}
	s.mu.Unlock()
	pc.srv.sendAnswer(s, a, pc)
	return true
}

// answerWaiting answers the poll waiting on pc, now that something was
// queued for its session or the session changed: on a goroutine of the
// poller's (wakePollLocked).
func (pc *pollConn) answerWaiting() {
	pc.mu.Lock()
	s := pc.waiting
	pc.mu.Unlock()
	if s != nil {
		pc.answer(s)
	}
}

// answer answers s's poll, waiting on pc.
func (pc *pollConn) answer(s *Session) {
	s.mu.Lock()
	a, ok := s.pollAnswerLocked()
	if !ok {
		s.pollWaiter = pc // nothing to answer yet
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	pc.srv.sendAnswer(s, a, pc)
	pc.mu.Lock()
	if pc.waiting == s {
		pc.waiting = nil
	}
	pc.since = pc.srv.taken.now()
	if pc.reqClose {
		pc.mu.Unlock()
		pc.close()
		return
	}
	if pc.busy || pc.closed || len(pc.in) == 0 {
		// The busy goroutine sees the poll is over; or nothing is to be
		// done but wait for the next request, of which the poller tells.
		pc.mu.Unlock()
		return
	}
	// Requests came behind the poll: they are handled on a goroutine of
	// their own, as a POST's may wait (for the handler).
	pc.busy = true
	pc.mu.Unlock()
	pc.srv.poller.Go(pc.workAsync)
}

// writePayload answers s's poll with payload.
func (pc *pollConn) writePayload(s *Session, payload []byte) error {
	return pc.writeAnswer(s, 200, "text/plain; charset=UTF-8", payload)
}

// writeError answers with one of the reference server's error bodies.
func (pc *pollConn) writeError(e requestError) {
	body := strconv.AppendQuote([]byte(`{"code":`+strconv.Itoa(e.code)+`,"message":`), e.message)
	_ = pc.writeAnswer(nil, e.status, "application/json", append(body, '}'))
}

// writeAnswer writes a whole answer in one write when the socket takes
// it, as it mostly does, or within WriteTimeout (see write). s, if not nil,
// is the session whose poll it answers.
func (pc *pollConn) writeAnswer(s *Session, status int, contentType string, body []byte) error {
	bufp := frameBuffers.Get().(*[]byte)
	buf := (*bufp)[:0]
	buf = append(buf, "HTTP/1.1 "...)
	buf = strconv.AppendInt(buf, int64(status), 10)
	buf = append(buf, ' ')
	buf = append(buf, http.StatusText(status)...)
	buf = append(buf, "\r\n"...)
	buf = append(buf, pc.header...)
	buf = append(buf, "Content-Type: "...)
	buf = append(buf, contentType...)
	buf = append(buf, "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(body)), 10)
	buf = append(buf, "\r\nDate: "...)
	buf = append(buf, pc.srv.taken.httpDate()...)
	if pc.reqClose {
		buf = append(buf, "\r\nConnection: close"...)
	}
	buf = append(buf, "\r\n\r\n"...)
	buf = append(buf, body...)
	err := pc.write(s, buf)
	if cap(buf) <= maxPooledBuffer {
		*bufp = buf[:0]
		frameBuffers.Put(bufp)
	}
	return err
}

// write writes buf now, as far as the socket's send buffer takes it, as it
// mostly takes all: the goroutines answering polls never wait on the
// network. The rest, if any, is written by a goroutine of its own within
// WriteTimeout; the client sends no other request before it has read this
// answer whole. If it cannot, the connection is closed, and so is s, if
// not nil, as a transport error: what its poll held is lost (and was
// counted as delivered).
func (pc *pollConn) write(s *Session, buf []byte) error {
	if pc.rc == nil {
		// Not the poller's (answerAndClose): on the request's goroutine.
		if err := pc.nc.SetWriteDeadline(time.Now().Add(pc.srv.cfg.WriteTimeout)); err != nil {
			return err
		}
		_, err := pc.nc.Write(buf)
		return err
	}
	n, err := netpoll.WriteNonblocking(pc.rc, buf)
	switch {
	case err == nil && n == len(buf):
		return nil
	case err != nil && !errors.Is(err, netpoll.ErrWouldBlock):
		return err
	}
	rest := bytes.Clone(buf[n:])
	go func() {
		err := pc.nc.SetWriteDeadline(time.Now().Add(pc.srv.cfg.WriteTimeout))
		if err == nil {
			_, err = pc.nc.Write(rest)
		}
		if err == nil {
			err = pc.nc.SetWriteDeadline(time.Time{})
		}
		if err != nil {
			pc.srv.log.Debug("poll answer write failed", logKeyError, err)
			pc.close()
			if s != nil {
				s.closeWith(eioparser.ReasonTransportError, eioparser.PacketNoop, false)
			}
		}
	}()
	return nil
}

// cachedDate is the Date header of one second.
type cachedDate struct {
	sec  int64
	text string
}

// httpDate returns the current time as an HTTP date, to the second.
// The sweep refreshes it while connections are taken over, which is when
// answers are written.
func (t *takenConns) httpDate() string {
	if d := t.date.Load(); d != nil {
		return d.text
	}
	t.tick(time.Now())
	return t.date.Load().text
}
