package admin

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/internal/engineio"
)

// aggregator counts what server_stats reports as aggregated events: the
// connections opened (an atomic add each) and closed, by reason (under a
// leaf lock: a close is rarer than a message, and its reasons few), and
// the server's traffic, read from its counters at each interval.
type aggregator struct {
	opened atomic.Uint64

	mu     sync.Mutex
	closed map[string]uint64

	// last is the traffic at the previous interval; only run reads it.
	last engineio.Traffic
}

func (g *aggregator) init() { g.closed = make(map[string]uint64) }

func (g *aggregator) start(t engineio.Traffic) { g.last = t }

func (g *aggregator) connected() { g.opened.Add(1) }

func (g *aggregator) disconnected(reason string) {
	g.mu.Lock()
	g.closed[reason]++
	g.mu.Unlock()
}

// aggregatedEvent is one count of server_stats' aggregatedEvents (the
// reference's NamespaceEvent): how many of type, and subType, happened in
// the second that starts at Timestamp (milliseconds).
type aggregatedEvent struct {
	Timestamp int64  `json:"timestamp"`
	Type      string `json:"type"`
	SubType   string `json:"subType,omitempty"`
	Count     uint64 `json:"count"`
}

// take returns the counts since the last take, dated at now's second, and
// starts counting anew: each happened within one interval before now.
func (g *aggregator) take(now time.Time, t engineio.Traffic) []aggregatedEvent {
	at := now.Truncate(time.Second).UnixMilli()
	var list []aggregatedEvent
	add := func(typ, sub string, n uint64) {
		if n > 0 {
			list = append(list, aggregatedEvent{Timestamp: at, Type: typ, SubType: sub, Count: n})
		}
	}
	add("rawConnection", "", g.opened.Swap(0))
	g.mu.Lock()
	closed := g.closed
	g.closed = make(map[string]uint64, len(closed))
	g.mu.Unlock()
	reasons := make([]string, 0, len(closed))
	for r := range closed {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		add("rawDisconnection", r, closed[r])
	}
	add("packetsIn", "", t.PacketsIn-g.last.PacketsIn)
	add("packetsOut", "", t.PacketsOut-g.last.PacketsOut)
	add("bytesIn", "", t.BytesIn-g.last.BytesIn)
	add("bytesOut", "", t.BytesOut-g.last.BytesOut)
	g.last = t
	if list == nil {
		list = []aggregatedEvent{}
	}
	return list
}

// serverStats is the server_stats event's (the reference's ServerStats).
type serverStats struct {
	ServerID            string             `json:"serverId"`
	Hostname            string             `json:"hostname"`
	PID                 int                `json:"pid"`
	Uptime              float64            `json:"uptime"`
	ClientsCount        int                `json:"clientsCount"`
	PollingClientsCount int                `json:"pollingClientsCount"`
	AggregatedEvents    []aggregatedEvent  `json:"aggregatedEvents"`
	Namespaces          []namespaceDetails `json:"namespaces"`
}

type namespaceDetails struct {
	Name         string `json:"name"`
	SocketsCount int    `json:"socketsCount"`
}

// serverStats returns this node's stats, with events as its aggregated
// events (none when nil).
func (a *Admin) serverStats(events []aggregatedEvent) serverStats {
	if events == nil {
		events = []aggregatedEvent{}
	}
	nsps := a.srv.Namespaces()
	details := make([]namespaceDetails, 0, len(nsps))
	for _, n := range nsps {
		details = append(details, namespaceDetails{Name: n.Name(), SocketsCount: n.SocketCount()})
	}
	sort.Slice(details, func(i, j int) bool { return details[i].Name < details[j].Name })
	return serverStats{
		ServerID:            a.cfg.ServerID,
		Hostname:            a.hostname,
		PID:                 a.pid,
		Uptime:              time.Since(a.started).Seconds(),
		ClientsCount:        a.srv.ConnectionCount(),
		PollingClientsCount: a.srv.PollingCount(),
		AggregatedEvents:    events,
		Namespaces:          details,
	}
}

// emitStats sends server_stats to every UI, with what was counted since
// the last time. The counts are taken even when no UI listens, so that
// they always cover one interval.
func (a *Admin) emitStats(now time.Time) {
	events := a.stats.take(now, a.srv.Traffic())
	if !a.cfg.Cluster && a.listeners.Load() == 0 {
		return
	}
	if err := a.nsp.Emit("server_stats", a.serverStats(events)); err != nil {
		a.log.Debug("admin event not sent", "event", "server_stats", "err", err)
	}
}
