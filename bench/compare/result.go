package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/internal/bench"
)

// result is one run of parley bench: its JSON line, and what the runner
// measured beside it.
type result struct {
	bench.Report

	// tcpMemPeakKiB is the most memory the kernel's TCP sockets held on
	// the machine during the run, above what they held at its start
	// (tcpMemKnown says if it was read): not from parley bench.
	tcpMemPeakKiB int64
	tcpMemKnown   bool
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
