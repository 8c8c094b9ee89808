package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// Result is what a run measured: a plain value that Run fills in. Its
// JSON encoding (MarshalJSON) is one line, for scripts.
type Result struct {
	RunID      string // the tag in the run's names and messages
	URL        string
	SendersURL string
	Transport  Transport
	Clients    int
	Senders    int
	Rate       float64 // per sender, messages per second
	Warmup     time.Duration
	Duration   time.Duration
	Idle       bool
	NoJoin     bool

	// Connected clients at the end of the connection phase, which took
	// ConnectTime; ConnectFailures could not connect; Dropped lost their
	// connection later, slow readers aside. ConnectP50... are the
	// connection times, from dialing to the Socket.IO CONNECT answer.
	Connected       int
	ConnectFailures int
	Dropped         int
	// SlowReaders is how many slow readers connected (Config.SlowReaders):
	// they are in Connected, in none of the delivery figures below.
	// SlowCutOff is how many of them the server disconnected by the end
	// of the run: those whose connection ended while they still read, and
	// those that stopped which, probed after the drain, showed the end of
	// the connection (end of file, reset, HTTP error, close packet)
	// before the server went quiet for half a second (see the package
	// doc).
	SlowReaders int
	SlowCutOff  int
	ConnectTime time.Duration
	ConnectP50  time.Duration
	ConnectP99  time.Duration
	ConnectMax  time.Duration
	// SettleTime is how long, once connected, the server took to go
	// quiet (see Config.Settle); SettleEvents is the events the clients
	// had received by then, such as user-connected announcements.
	SettleTime   time.Duration
	SettleEvents uint64

	// SendersActive is the senders that were connected. Sent is the
	// messages sent in the measured window, SentTotal with the warm-up;
	// Unsent were due but not sent, as a sender fell behind (more than
	// 100 ms: a slow write, or a generator short of CPU) or was
	// disconnected.
	// Expected is Sent × (Connected − SlowReaders − 1): every healthy
	// client but the sender (never a slow reader) hears each. Received is the distinct deliveries of those messages, Loss
	// the expected ones missing. Duplicates are deliveries of a message a
	// client had already had; Reorders are deliveries after a later
	// message of the same sender (they are also in Received). Echoes are
	// messages delivered back to their sender, History replayed ones and
	// Malformed ones with the run's tag but unreadable fields: none of
	// those are in Received. ServerErrors counts error events.
	SendersActive int
	Sent          uint64
	SentTotal     uint64
	Unsent        uint64
	Expected      uint64
	Received      uint64
	Loss          uint64
	Duplicates    uint64
	Reorders      uint64
	Echoes        uint64
	History       uint64
	Malformed     uint64
	ServerErrors  uint64

	// Measured is the window's actual length; DeliveriesPerSec is
	// Received over it. The latencies are those of Received, from the time
	// in the message to its arrival.
	Measured         time.Duration
	DeliveriesPerSec float64
	LatencyP50       time.Duration
	LatencyP90       time.Duration
	LatencyP99       time.Duration
	LatencyMax       time.Duration

	// Nodes, when URL and SendersURL list more than one node, has each
	// node's clients and the deliveries to them. SameNode and CrossNode
	// then split the measured deliveries by where their sender was: on
	// the receiver's node, or on another (the latency then includes the
	// hop between the nodes). Both count every measured delivery to a
	// healthy client, as DeliveriesPerSec does, churning ones included.
	Nodes     []NodeStats
	SameNode  *PathStats
	CrossNode *PathStats

	// Steady, with Config.Churn or Ack, is how many clients stayed
	// connected from before the window to the end without churning,
	// slow readers aside: then Expected, Received and Loss are theirs,
	// and Expected counts, for each, the messages of the others sent in
	// the window, or with Ack those acknowledged.
	Steady int
	// Churn is what the churn did (Config.Churn), nil without it.
	Churn *ChurnStats
	// Acks is what the acknowledgements showed (Config.Ack), nil without
	// them.
	Acks *AckStats
	// Hostile is what the hostile client did and met with
	// (Config.Hostile), nil without it.
	Hostile *HostileReport
	// Storm is what a restart storm measured (Config.Restart), nil
	// otherwise; then Measured, BenchCPU and HostBusy are from the restart
	// until the server went quiet again.
	Storm *StormStats

	// Server is measured with Config.PID, nil otherwise.
	Server *ServerStats
	// BenchCPU is this process's CPU time over the window; HostBusy the
	// machine's, as a fraction of all its CPUs; OtherBusy, with a Server,
	// is the part of HostBusy that neither the server nor the generator
	// used: other programs, which make the latencies noisier.
	BenchCPU  time.Duration
	HostBusy  float64
	OtherBusy float64
	// NoFile is the open-files limit the run had.
	NoFile uint64
	// Errors counts failures by phase and kind: "connect: timeout", ...
	Errors   map[string]int
	Warnings []string
}

// NodeStats is one node of a run with several: its base URL; how many of
// the first Config.Clients clients (Senders of them senders) were to
// connect to it, and how many did (slow readers included); and the
// measured deliveries to its clients, from any node.
type NodeStats struct {
	URL        string
	Clients    int
	Senders    int
	Connected  int
	Deliveries PathStats
}

// PathStats counts measured deliveries and gives their latencies.
type PathStats struct {
	Received   uint64
	LatencyP50 time.Duration
	LatencyP90 time.Duration
	LatencyP99 time.Duration
	LatencyMax time.Duration
}

// latencies prints the quantiles, with p90 too if p90, after a comma; or
// nothing when there was no delivery.
func (p PathStats) latencies(p90 bool) string {
	if p.Received == 0 {
		return ""
	}
	s := ", p50 " + fmtDuration(p.LatencyP50)
	if p90 {
		s += ", p90 " + fmtDuration(p.LatencyP90)
	}
	return s + ", p99 " + fmtDuration(p.LatencyP99) + ", max " + fmtDuration(p.LatencyMax)
}

// ServerStats is what a run measured of the server's process.
type ServerStats struct {
	PID int
	// CPU is the server's CPU time over the window; CPUPerDelivery is CPU
	// over Result.Received.
	CPU            time.Duration
	CPUPerDelivery time.Duration
	// ConnectCPU is the server's CPU time from the first connection until
	// it settled.
	ConnectCPU time.Duration
	// Resident memory before connecting, once connected and settled, at
	// its peak in the window (sampled every Config.SampleInterval), after
	// it, and the largest sampled in the whole run.
	RSSBeforeKiB    int64
	RSSConnectedKiB int64
	RSSPeakKiB      int64
	RSSEndKiB       int64
	RSSMaxKiB       int64
	// RSSPerClientKiB is (RSSConnectedKiB − RSSBeforeKiB) / Connected.
	RSSPerClientKiB float64
}

// ChurnStats is what the churn did: Left is how many clients left, Joined
// how many joined in their place, JoinFailed how many could not.
type ChurnStats struct {
	Left       int `json:"left"`
	Joined     int `json:"joined"`
	JoinFailed int `json:"join_failed"`
}

// AckStats is what the acknowledgements of the messages of the window
// showed. Acked were acknowledged, Refused refused (by their code in
// Result.Errors, "ack refused: ..."), Unanswered neither by the end of the
// drain. Of the Acked, Lost is how many did not reach every one of the
// Steady clients (those still connected at the end) but their sender,
// and Missing how many deliveries to them were missing.
type AckStats struct {
	Acked      uint64 `json:"acked"`
	Refused    uint64 `json:"refused"`
	Unanswered uint64 `json:"unanswered"`
	Steady     int    `json:"steady"`
	Lost       uint64 `json:"lost"`
	Missing    uint64 `json:"missing"`
}

func newResult(cfg Config, runID string) *Result {
	return &Result{
		RunID:      runID,
		URL:        cfg.URL,
		SendersURL: cfg.SendersURL,
		Transport:  cfg.Transport,
		Clients:    cfg.Clients,
		Senders:    cfg.Senders,
		Rate:       cfg.Rate,
		Warmup:     cfg.Warmup,
		Duration:   cfg.Duration,
		Idle:       cfg.Idle,
		NoJoin:     cfg.NoJoin,
	}
}

// ms is a duration in milliseconds, for JSON.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round keeps 3 decimals.
func round(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// Report is a Result as its JSON line has it: one flat object with
// snake_case keys; durations are in milliseconds (keys ending in _ms),
// except CPU times, in seconds, and CPU per delivery, in microseconds.
// Scripts that read the line (bench/compare) decode it into a Report.
type Report struct {
	RunID            string         `json:"run_id"`
	URL              string         `json:"url"`
	SendersURL       string         `json:"senders_url,omitempty"`
	Transport        Transport      `json:"transport"`
	Clients          int            `json:"clients"`
	Senders          int            `json:"senders"`
	Rate             float64        `json:"rate"`
	WarmupMS         float64        `json:"warmup_ms"`
	DurationMS       float64        `json:"duration_ms"`
	Idle             bool           `json:"idle"`
	NoJoin           bool           `json:"no_join"`
	Connected        int            `json:"connected"`
	ConnectFailures  int            `json:"connect_failures"`
	Dropped          int            `json:"dropped"`
	SlowReaders      int            `json:"slow_readers"`
	SlowCutOff       int            `json:"slow_cut_off"`
	ConnectTimeMS    float64        `json:"connect_time_ms"`
	ConnectP50MS     float64        `json:"connect_p50_ms"`
	ConnectP99MS     float64        `json:"connect_p99_ms"`
	ConnectMaxMS     float64        `json:"connect_max_ms"`
	SettleMS         float64        `json:"settle_ms"`
	SettleEvents     uint64         `json:"settle_events"`
	SendersActive    int            `json:"senders_active"`
	Sent             uint64         `json:"sent"`
	SentTotal        uint64         `json:"sent_total"`
	Unsent           uint64         `json:"unsent"`
	Expected         uint64         `json:"expected"`
	Received         uint64         `json:"received"`
	Loss             uint64         `json:"loss"`
	Duplicates       uint64         `json:"duplicates"`
	Reorders         uint64         `json:"reorders"`
	Echoes           uint64         `json:"echoes"`
	History          uint64         `json:"history"`
	Malformed        uint64         `json:"malformed"`
	ServerErrors     uint64         `json:"server_errors"`
	MeasuredMS       float64        `json:"measured_ms"`
	DeliveriesPerSec float64        `json:"deliveries_per_s"`
	LatencyP50MS     float64        `json:"latency_p50_ms"`
	LatencyP90MS     float64        `json:"latency_p90_ms"`
	LatencyP99MS     float64        `json:"latency_p99_ms"`
	LatencyMaxMS     float64        `json:"latency_max_ms"`
	Nodes            []NodeReport   `json:"nodes,omitempty"`
	SameNode         *PathReport    `json:"same_node,omitempty"`
	CrossNode        *PathReport    `json:"cross_node,omitempty"`
	Steady           int            `json:"steady,omitempty"`
	Churn            *ChurnStats    `json:"churn,omitempty"`
	Acks             *AckStats      `json:"acks,omitempty"`
	Hostile          *HostileReport `json:"hostile,omitempty"`
	Storm            *StormReport   `json:"storm,omitempty"`
	Server           *ServerReport  `json:"server,omitempty"`
	BenchCPUSeconds  float64        `json:"bench_cpu_s"`
	HostBusy         float64        `json:"host_busy"`
	OtherBusy        float64        `json:"other_busy"`
	NoFile           uint64         `json:"nofile"`
	Errors           map[string]int `json:"errors,omitempty"`
	Warnings         []string       `json:"warnings,omitempty"`
}

// NodeReport is an element of the "nodes" array of a Report.
type NodeReport struct {
	URL       string `json:"url"`
	Clients   int    `json:"clients"`
	Senders   int    `json:"senders"`
	Connected int    `json:"connected"`
	PathReport
}

// PathReport is the "same_node" and "cross_node" objects of a Report,
// and the deliveries of a NodeReport.
type PathReport struct {
	Received     uint64  `json:"received"`
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP90MS float64 `json:"latency_p90_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	LatencyMaxMS float64 `json:"latency_max_ms"`
}

// report returns p in its JSON form.
func (p PathStats) report() PathReport {
	return PathReport{
		Received: p.Received, LatencyP50MS: round(ms(p.LatencyP50)), LatencyP90MS: round(ms(p.LatencyP90)),
		LatencyP99MS: round(ms(p.LatencyP99)), LatencyMaxMS: round(ms(p.LatencyMax)),
	}
}

// ServerReport is the "server" object of a Report.
type ServerReport struct {
	PID                  int     `json:"pid"`
	CPUSeconds           float64 `json:"cpu_s"`
	CPUMicrosPerDelivery float64 `json:"cpu_us_per_delivery"`
	ConnectCPUSeconds    float64 `json:"connect_cpu_s"`
	RSSBeforeKiB         int64   `json:"rss_before_kib"`
	RSSConnectedKiB      int64   `json:"rss_connected_kib"`
	RSSPeakKiB           int64   `json:"rss_peak_kib"`
	RSSEndKiB            int64   `json:"rss_end_kib"`
	RSSMaxKiB            int64   `json:"rss_max_kib"`
	RSSPerClientKiB      float64 `json:"rss_per_client_kib"`
}

// Report returns the result in its JSON form.
func (r *Result) Report() Report {
	out := Report{
		RunID: r.RunID, URL: r.URL, SendersURL: r.SendersURL, Transport: r.Transport,
		Clients: r.Clients, Senders: r.Senders, Rate: r.Rate,
		WarmupMS: ms(r.Warmup), DurationMS: ms(r.Duration), Idle: r.Idle, NoJoin: r.NoJoin,
		Connected: r.Connected, ConnectFailures: r.ConnectFailures, Dropped: r.Dropped,
		SlowReaders: r.SlowReaders, SlowCutOff: r.SlowCutOff,
		ConnectTimeMS: round(ms(r.ConnectTime)), ConnectP50MS: round(ms(r.ConnectP50)),
		ConnectP99MS: round(ms(r.ConnectP99)), ConnectMaxMS: round(ms(r.ConnectMax)),
		SettleMS: round(ms(r.SettleTime)), SettleEvents: r.SettleEvents,
		SendersActive: r.SendersActive, Sent: r.Sent, SentTotal: r.SentTotal, Unsent: r.Unsent,
		Expected: r.Expected, Received: r.Received, Loss: r.Loss,
		Duplicates: r.Duplicates, Reorders: r.Reorders, Echoes: r.Echoes,
		History: r.History, Malformed: r.Malformed, ServerErrors: r.ServerErrors,
		MeasuredMS: round(ms(r.Measured)), DeliveriesPerSec: round(r.DeliveriesPerSec),
		LatencyP50MS: round(ms(r.LatencyP50)), LatencyP90MS: round(ms(r.LatencyP90)),
		LatencyP99MS: round(ms(r.LatencyP99)), LatencyMaxMS: round(ms(r.LatencyMax)),
		BenchCPUSeconds: round(r.BenchCPU.Seconds()), HostBusy: round(r.HostBusy), OtherBusy: round(r.OtherBusy),
		NoFile: r.NoFile, Errors: r.Errors, Warnings: r.Warnings,
		Steady: r.Steady, Churn: r.Churn, Acks: r.Acks, Hostile: r.Hostile,
	}
	for _, n := range r.Nodes {
		out.Nodes = append(out.Nodes, NodeReport{URL: n.URL, Clients: n.Clients, Senders: n.Senders, Connected: n.Connected, PathReport: n.Deliveries.report()})
	}
	if r.SameNode != nil {
		p := r.SameNode.report()
		out.SameNode = &p
	}
	if r.CrossNode != nil {
		p := r.CrossNode.report()
		out.CrossNode = &p
	}
	if r.Storm != nil {
		out.Storm = r.Storm.report()
	}
	if s := r.Server; s != nil {
		out.Server = &ServerReport{
			PID: s.PID, CPUSeconds: round(s.CPU.Seconds()),
			CPUMicrosPerDelivery: round(float64(s.CPUPerDelivery) / float64(time.Microsecond)),
			ConnectCPUSeconds:    round(s.ConnectCPU.Seconds()),
			RSSBeforeKiB:         s.RSSBeforeKiB, RSSConnectedKiB: s.RSSConnectedKiB,
			RSSPeakKiB: s.RSSPeakKiB, RSSEndKiB: s.RSSEndKiB, RSSMaxKiB: s.RSSMaxKiB,
			RSSPerClientKiB: round(s.RSSPerClientKiB),
		}
	}
	return out
}

// MarshalJSON encodes the result as its Report.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.Report()) }

// fmtDuration prints a latency with three significant digits or so.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", ms(d))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}

// WriteText writes the result for people to read.
func (r *Result) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	p := ew.printf
	mode := fmt.Sprintf("%d senders × %g msg/s, %v warm-up + %v measured", r.Senders, r.Rate, r.Warmup, r.Duration)
	switch {
	case r.Idle:
		mode = fmt.Sprintf("idle for %v", r.Duration)
	case r.Storm != nil:
		mode = "restart storm"
	}
	if r.NoJoin {
		mode += "; only senders join"
	}
	where := r.URL
	if r.SendersURL != "" {
		where = "senders on " + r.SendersURL + ", the others on " + r.URL
	}
	p("parley bench %s: %s, %d clients over %s, %s\n", r.RunID, where, r.Clients, r.Transport, mode)
	p("connect     %d connected, %d failed, %d dropped later; in %v (p50 %s, p99 %s, max %s)\n",
		r.Connected, r.ConnectFailures, r.Dropped, r.ConnectTime.Round(time.Millisecond),
		fmtDuration(r.ConnectP50), fmtDuration(r.ConnectP99), fmtDuration(r.ConnectMax))
	p("settle      %d events received by then; quiet %v later\n", r.SettleEvents, r.SettleTime.Round(time.Millisecond))
	if r.SlowReaders > 0 {
		p("slow        %d slow readers stopped reading before the warm-up; the server cut off %d of them; not in the figures below\n",
			r.SlowReaders, r.SlowCutOff)
	}
	if r.Storm != nil {
		r.Storm.writeText(p)
	} else if !r.Idle {
		p("messages    %d sent in the window by %d senders (%d in all", r.Sent, r.SendersActive, r.SentTotal)
		if r.Unsent > 0 {
			p("; %d due but not sent", r.Unsent)
		}
		p(")\n")
		p("deliveries  %d expected, %d received, %.0f/s; loss %d, duplicates %d, reorders %d\n",
			r.Expected, r.Received, r.DeliveriesPerSec, r.Loss, r.Duplicates, r.Reorders)
		if r.Echoes+r.Malformed+r.ServerErrors > 0 {
			p("            %d echoes to their sender, %d malformed, %d error events from the server\n", r.Echoes, r.Malformed, r.ServerErrors)
		}
		if r.Churn != nil || r.Acks != nil {
			p("            delivery figures of the %d steady clients (connected throughout, never churned)\n", r.Steady)
		}
		p("latency     p50 %s, p90 %s, p99 %s, max %s\n",
			fmtDuration(r.LatencyP50), fmtDuration(r.LatencyP90), fmtDuration(r.LatencyP99), fmtDuration(r.LatencyMax))
	}
	for i, n := range r.Nodes {
		p("node %-6d %s: %d clients (%d senders), %d connected", i+1, n.URL, n.Clients, n.Senders, n.Connected)
		if !r.Idle {
			p("; %d deliveries to them%s", n.Deliveries.Received, n.Deliveries.latencies(false))
		}
		p("\n")
	}
	if r.SameNode != nil && !r.Idle {
		p("same node   %d deliveries from a sender on the receiver's node%s\n", r.SameNode.Received, r.SameNode.latencies(true))
		p("cross-node  %d deliveries from a sender on another node%s\n", r.CrossNode.Received, r.CrossNode.latencies(true))
	}
	if c := r.Churn; c != nil {
		p("churn       %d clients left, %d joined in their place, %d could not join; %d history messages delivered\n",
			c.Left, c.Joined, c.JoinFailed, r.History)
	}
	if a := r.Acks; a != nil {
		p("acks        %d acked in the window, %d refused, %d unanswered; %d acked lost (%d deliveries missing) over %d steady clients\n",
			a.Acked, a.Refused, a.Unanswered, a.Lost, a.Missing, a.Steady)
	}
	if h := r.Hostile; h != nil {
		h.writeText(p)
	}
	if s := r.Server; s != nil && r.Storm != nil {
		p("server      pid %d: %.2f s CPU to connect and settle; RSS %s before, %s connected, %.1f KiB per client\n",
			s.PID, s.ConnectCPU.Seconds(), kib(s.RSSBeforeKiB), kib(s.RSSConnectedKiB), s.RSSPerClientKiB)
	} else if s != nil {
		p("server      pid %d: %.2f s CPU over %v", s.PID, s.CPU.Seconds(), r.Measured.Round(time.Millisecond))
		if s.CPUPerDelivery > 0 {
			p(", %.2f µs per delivery", float64(s.CPUPerDelivery)/float64(time.Microsecond))
		}
		p("; %.2f s CPU to connect and settle\n", s.ConnectCPU.Seconds())
		p("            RSS %s before, %s connected, %s peak in the window, %s after it, %s max; %.1f KiB per client\n",
			kib(s.RSSBeforeKiB), kib(s.RSSConnectedKiB), kib(s.RSSPeakKiB), kib(s.RSSEndKiB), kib(s.RSSMaxKiB), s.RSSPerClientKiB)
	}
	p("machine     %.0f%% of all CPUs busy", 100*r.HostBusy)
	if r.Server != nil {
		p(" (%.0f%% by other programs)", 100*r.OtherBusy)
	}
	p("; bench %.2f s CPU\n", r.BenchCPU.Seconds())
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		p("error       %s ×%d\n", k, r.Errors[k])
	}
	for _, s := range r.Warnings {
		p("warning     %s\n", s)
	}
	return ew.err
}

// kib prints an amount of memory.
func kib(k int64) string {
	if k >= 10*1024 {
		return fmt.Sprintf("%.1f MiB", float64(k)/1024)
	}
	return fmt.Sprintf("%d KiB", k)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
