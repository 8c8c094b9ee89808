package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// result is the part of parley bench's JSON line (see
// internal/bench/result.go, Result.MarshalJSON) that the comparison uses.
type result struct {
	Clients          int            `json:"clients"`
	Senders          int            `json:"senders"`
	Rate             float64        `json:"rate"`
	DurationMS       float64        `json:"duration_ms"`
	Connected        int            `json:"connected"`
	ConnectFailures  int            `json:"connect_failures"`
	Dropped          int            `json:"dropped"`
	SlowReaders      int            `json:"slow_readers"`
	SlowCutOff       int            `json:"slow_cut_off"`
	ConnectTimeMS    float64        `json:"connect_time_ms"`
	SettleMS         float64        `json:"settle_ms"`
	SettleEvents     uint64         `json:"settle_events"`
	SendersActive    int            `json:"senders_active"`
	Sent             uint64         `json:"sent"`
	Unsent           uint64         `json:"unsent"`
	Expected         uint64         `json:"expected"`
	Received         uint64         `json:"received"`
	Loss             uint64         `json:"loss"`
	Duplicates       uint64         `json:"duplicates"`
	Reorders         uint64         `json:"reorders"`
	ServerErrors     uint64         `json:"server_errors"`
	MeasuredMS       float64        `json:"measured_ms"`
	DeliveriesPerSec float64        `json:"deliveries_per_s"`
	LatencyP50MS     float64        `json:"latency_p50_ms"`
	LatencyP99MS     float64        `json:"latency_p99_ms"`
	LatencyMaxMS     float64        `json:"latency_max_ms"`
	Server           *serverStats   `json:"server"`
	HostBusy         float64        `json:"host_busy"`
	OtherBusy        float64        `json:"other_busy"`
	Errors           map[string]int `json:"errors"`
	Warnings         []string       `json:"warnings"`

	// tcpMemPeakKiB is the most memory the kernel's TCP sockets held on
	// the machine during the run, above what they held at its start
	// (tcpMemKnown says if it was read): not from parley bench.
	tcpMemPeakKiB int64
	tcpMemKnown   bool
}

// serverStats is the "server" object of the JSON line.
type serverStats struct {
	CPUSeconds        float64 `json:"cpu_s"`
	CPUMicrosPerDeliv float64 `json:"cpu_us_per_delivery"`
	ConnectCPUSeconds float64 `json:"connect_cpu_s"`
	RSSBeforeKiB      int64   `json:"rss_before_kib"`
	RSSConnectedKiB   int64   `json:"rss_connected_kib"`
	RSSPeakKiB        int64   `json:"rss_peak_kib"`
	RSSMaxKiB         int64   `json:"rss_max_kib"`
	RSSPerClientKiB   float64 `json:"rss_per_client_kib"`
}

// parseResult finds the JSON line in parley bench's stdout.
func parseResult(stdout []byte) (*result, error) {
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r result
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("parsing parley bench's JSON: %w", err)
		}
		return &r, nil
	}
	return nil, fmt.Errorf("parley bench printed no JSON line")
}

// lossPct is the loss as a percentage of the expected deliveries.
func (r *result) lossPct() float64 {
	if r.Expected == 0 {
		return 0
	}
	return 100 * float64(r.Loss) / float64(r.Expected)
}

// healthy says whether every client connected and stayed, every message
// due was sent, and nothing was lost, duplicated or refused; if not, why.
func (r *result) healthy() (bool, string) {
	var why []string
	if r.Connected < r.Clients {
		why = append(why, fmt.Sprintf("%d of %d connected", r.Connected, r.Clients))
	}
	if r.Dropped > 0 {
		why = append(why, fmt.Sprintf("%d dropped", r.Dropped))
	}
	if r.Unsent > 0 {
		why = append(why, fmt.Sprintf("%d unsent", r.Unsent))
	}
	if r.Loss > 0 {
		why = append(why, fmt.Sprintf("loss %.2g%%", r.lossPct()))
	}
	if r.Duplicates > 0 {
		why = append(why, fmt.Sprintf("%d duplicates", r.Duplicates))
	}
	if r.ServerErrors > 0 {
		why = append(why, fmt.Sprintf("%d error events", r.ServerErrors))
	}
	return len(why) == 0, strings.Join(why, ", ")
}
