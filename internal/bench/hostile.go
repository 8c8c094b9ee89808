package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// hostileStepTimeout bounds each step of the hostile client: a dial, a
// handshake, an answer it waits for.
const hostileStepTimeout = 5 * time.Second

// hostileParams sizes what the hostile client sends; tests make it small.
type hostileParams struct {
	pollPings     int           // Engine.IO pings in one polling POST
	wsPings       int           // Engine.IO pings over one WebSocket
	pingFrames    int           // WebSocket ping frames, never read
	anonCycles    int           // connect/close cycles without new-user
	floodRooms    int           // join-room events from one connection
	headerConns   int           // handshakes with huge headers
	headerBytes   int           // of one header
	bigFrameConns int           // connections left with a partial frame
	bigFrame      int           // bytes of the big frame before it
	hold          time.Duration // how long those are held
	slowPosts     int           // POST bodies trickled, at once
	slowPostLimit time.Duration // how long the server may take to end one
	catchUp       int           // long messages caught up in each cycle
	catchUpText   int           // characters of each
	catchUpPace   time.Duration // between the messages when storing them
}

// defaultHostile is what `parley bench --hostile` sends: the sizes of the
// probes that found the defects.
var defaultHostile = hostileParams{
	pollPings:     500_000,
	wsPings:       10_000,
	pingFrames:    40_000,
	anonCycles:    200,
	floodRooms:    100,
	headerConns:   20,
	headerBytes:   1 << 20,
	bigFrameConns: 20,
	bigFrame:      900_000,
	hold:          5 * time.Second,
	slowPosts:     10,
	slowPostLimit: 20 * time.Second,
	catchUp:       400,
	catchUpText:   2000,
	catchUpPace:   55 * time.Millisecond,
}

// hostileItem is one kind of hostile input: run sends it and checks that
// the server refused or bounded it, and returns what it saw, or an error
// saying how the server failed.
type hostileItem struct {
	name string
	run  func(h *hostile, ctx context.Context) (note string, err error)
}

// hostileItems are the items, in the order of each cycle; the package
// doc describes them.
var hostileItems = []hostileItem{
	{"polling-pings", (*hostile).pollingPings},
	{"websocket-pings", (*hostile).websocketPings},
	{"ping-frames-unread", (*hostile).pingFramesUnread},
	{"anonymous-cycles", (*hostile).anonymousCycles},
	{"room-flood", (*hostile).roomFlood},
	{"huge-headers", (*hostile).hugeHeaders},
	{"big-frame-then-byte", (*hostile).bigFrameThenByte},
	{"invalid-close-codes", (*hostile).invalidCloseCodes},
	{"slow-post-bodies", (*hostile).slowPostBodies},
	{"http10-upgrade", (*hostile).http10Upgrade},
	{"two-websocket-keys", (*hostile).twoWebSocketKeys},
	{"big-catch-up", (*hostile).bigCatchUp},
}

// HostileReport is what the hostile client did (Config.Hostile): how many
// cycles through its items it completed, and each item's figures.
type HostileReport struct {
	Cycles int                `json:"cycles"`
	Items  []HostileItemStats `json:"items"`
}

// HostileItemStats is one item of the hostile client: how often it ran
// to its end, how often the server failed it, the last failure, and what
// its last run saw.
type HostileItemStats struct {
	Name    string `json:"name"`
	Runs    int    `json:"runs"`
	Failed  int    `json:"failed"`
	Failure string `json:"failure,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Failed is how many runs of all items the server failed.
func (r *HostileReport) Failed() int {
	n := 0
	for _, it := range r.Items {
		n += it.Failed
	}
	return n
}

// writeText writes the report's lines.
func (r *HostileReport) writeText(p func(string, ...any)) {
	p("hostile     %d cycles through %d items, %d failures\n", r.Cycles, len(r.Items), r.Failed())
	for _, it := range r.Items {
		status := "ok"
		if it.Failed > 0 {
			status = fmt.Sprintf("FAILED %d× (last: %s)", it.Failed, it.Failure)
		}
		p("            %-20s ×%-3d %s; %s\n", it.Name, it.Runs, status, it.Note)
	}
}

// hostile is the hostile client of a run. Its goroutine alone uses it;
// report is read once it has ended.
type hostile struct {
	addr    string // host:port
	path    string
	pollURL string
	runID   string
	p       hostileParams
	http    *http.Client
	report  HostileReport
	seq     int // for names

	// The big-catch-up room, filled once.
	bigRoom   string
	bigSince  int64 // the id of the message before the long ones
	bigFilled bool
}

// newHostile makes the hostile client of a run against the server at
// base (an http URL) and path.
func newHostile(base, path, runID string, p hostileParams) (*hostile, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%w: URL: %v", ErrConfig, err)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	u.Path, u.RawQuery, u.Fragment = path, "EIO=4&transport=polling", ""
	h := &hostile{
		addr:    addr,
		path:    path,
		pollURL: u.String(),
		runID:   runID,
		p:       p,
		http:    &http.Client{Timeout: hostileStepTimeout, Transport: &http.Transport{DisableKeepAlives: true}},
		bigRoom: "hostile-" + runID,
	}
	for _, it := range hostileItems {
		h.report.Items = append(h.report.Items, HostileItemStats{Name: it.name})
	}
	return h, nil
}

// run cycles through the items from start until end or stop. An item cut
// short by the end is not counted.
func (h *hostile) run(ctx context.Context, start, end time.Time, stop <-chan struct{}) {
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if !sleepUntil(ctx, start) {
		return
	}
	for {
		for i, it := range hostileItems {
			note, err := it.run(h, ctx)
			if ctx.Err() != nil {
				return
			}
			h.record(i, note, err)
		}
		h.report.Cycles++
	}
}

// record counts a run of item i.
func (h *hostile) record(i int, note string, err error) {
	s := &h.report.Items[i]
	s.Runs++
	s.Note = note
	if err != nil {
		s.Failed++
		s.Failure = err.Error()
	}
}

// name returns a fresh name for the hostile client's people.
func (h *hostile) name() string {
	h.seq++
	return fmt.Sprintf("hostile-%s-%d", h.runID, h.seq)
}

// pollOpen opens a polling session and returns its id.
func (h *hostile) pollOpen(ctx context.Context) (string, error) {
	code, body, err := h.poll(ctx, http.MethodGet, "", nil)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("%w: handshake answered %d", ErrHandshake, code)
	}
	if err != nil {
		return "", err
	}
	open, _, _ := bytes.Cut(body, []byte{0x1e})
	info, err := parseOpen(open)
	return info.SID, err
}

// poll makes one polling request of session sid ("" for the handshake)
// and returns its status and body.
func (h *hostile) poll(ctx context.Context, method, sid string, body []byte) (int, []byte, error) {
	u := h.pollURL
	if sid != "" {
		u += "&sid=" + url.QueryEscape(sid)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, rawFrameLimit))
	return resp.StatusCode, b, err
}
