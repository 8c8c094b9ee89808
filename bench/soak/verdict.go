package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parley-chat/parley/internal/bench"
)

// The criteria of the soak, after issue 10: with a hostile client
// alongside the load, the server's resident memory stays bounded, nothing
// acknowledged is lost, and the healthy clients' p99 stays within twice
// that of the same load without it; and the hostile client finds every
// one of its inputs refused or bounded.

// limits are the bounds the criteria use.
type limits struct {
	// maxRSSKiB bounds every sample of the server's memory.
	maxRSSKiB int64
	// growth bounds the largest sample of the hostile run's last third
	// over that of its middle third (the first is the climb to where the
	// load takes it): memory that keeps growing is not bounded, whatever
	// its level.
	growth float64
	// p99Ratio bounds the hostile run's p99 over the baseline's.
	p99Ratio float64
}

// run is one run of parley bench: its name, its JSON line (nil if it
// failed) and the memory samples taken during it.
type run struct {
	name string
	rep  *bench.Report
	rss  []sample
}

// check is one criterion's outcome.
type check struct {
	name   string
	ok     bool
	detail string
}

// verdict checks the criteria on the baseline run and the hostile one.
func verdict(base, hostile run, lim limits) []check {
	return []check{
		rssBounded(base, hostile, lim),
		noAckedLoss(base, hostile),
		p99Within(base, hostile, lim.p99Ratio),
		hostileRefused(hostile),
	}
}

// passed reports whether every check passed.
func passed(cs []check) bool {
	for _, c := range cs {
		if !c.ok {
			return false
		}
	}
	return true
}

// rssBounded: no sample above maxRSSKiB, and no growth through the hostile
// run beyond the factor.
func rssBounded(base, hostile run, lim limits) check {
	c := check{name: "server RSS bounded"}
	all := append(slices.Clone(base.rss), hostile.rss...)
	if len(all) == 0 {
		c.detail = "no memory sample"
		return c
	}
	lo, hi := minMax(all)
	c.detail = fmt.Sprintf("%s to %s over both runs (limit %s)", mib(lo), mib(hi), mib(lim.maxRSSKiB))
	c.ok = hi <= lim.maxRSSKiB
	_, middle, last := thirds(hostile.rss)
	if len(middle) == 0 || len(last) == 0 {
		c.ok = false
		c.detail += "; too few samples in the hostile run to see a trend"
		return c
	}
	_, early := minMax(middle)
	_, late := minMax(last)
	grew := float64(late) / float64(max(early, 1))
	c.detail += fmt.Sprintf("; hostile run: max %s in its middle third, %s in its last (%.2f×, limit %.2f×)",
		mib(early), mib(late), grew, lim.growth)
	c.ok = c.ok && grew <= lim.growth
	return c
}

// thirds splits samples into the thirds of the time they span.
func thirds(s []sample) (first, middle, last []sample) {
	if len(s) == 0 {
		return nil, nil, nil
	}
	span := s[len(s)-1].at - s[0].at
	a, b := s[0].at+span/3, s[0].at+2*span/3
	for _, x := range s {
		switch {
		case x.at < a:
			first = append(first, x)
		case x.at < b:
			middle = append(middle, x)
		default:
			last = append(last, x)
		}
	}
	return first, middle, last
}

// minMax returns the smallest and largest sample.
func minMax(s []sample) (lo, hi int64) {
	lo = s[0].kib
	for _, x := range s {
		lo, hi = min(lo, x.kib), max(hi, x.kib)
	}
	return lo, hi
}

// noAckedLoss: in both runs, messages were acked, every acked one reached
// every steady client, every message had its answer, and no client was
// dropped.
func noAckedLoss(runs ...run) check {
	c := check{name: "nothing acked lost", ok: true}
	var parts []string
	for _, r := range runs {
		rep := r.rep
		if rep == nil || rep.Acks == nil {
			c.ok = false
			parts = append(parts, r.name+": no result")
			continue
		}
		a := rep.Acks
		parts = append(parts, fmt.Sprintf("%s: %d acked, %d lost (%d deliveries missing), %d unanswered, %d refused, %d dropped",
			r.name, a.Acked, a.Lost, a.Missing, a.Unanswered, a.Refused, rep.Dropped))
		if a.Acked == 0 || a.Lost > 0 || a.Missing > 0 || a.Unanswered > 0 || a.Refused > 0 || rep.Dropped > 0 || rep.Loss > 0 {
			c.ok = false
		}
	}
	c.detail = strings.Join(parts, "; ")
	return c
}

// p99Within: the hostile run's p99 is at most ratio times the baseline's.
func p99Within(base, hostile run, ratio float64) check {
	c := check{name: fmt.Sprintf("healthy p99 within %g× of the baseline", ratio)}
	if base.rep == nil || hostile.rep == nil || base.rep.LatencyP99MS <= 0 {
		c.detail = "no latency to compare"
		return c
	}
	got := hostile.rep.LatencyP99MS / base.rep.LatencyP99MS
	c.ok = got <= ratio
	c.detail = fmt.Sprintf("p99 %.2f ms with the hostile client, %.2f ms without: %.2f×", hostile.rep.LatencyP99MS, base.rep.LatencyP99MS, got)
	return c
}

// hostileRefused: the hostile client completed a cycle, and the server
// refused or bounded each of its inputs every time.
func hostileRefused(hostile run) check {
	c := check{name: "every hostile input refused or bounded"}
	if hostile.rep == nil || hostile.rep.Hostile == nil {
		c.detail = "no hostile report"
		return c
	}
	h := hostile.rep.Hostile
	var failed []string
	for _, it := range h.Items {
		if it.Failed > 0 {
			failed = append(failed, fmt.Sprintf("%s %d of %d (%s)", it.Name, it.Failed, it.Runs, it.Failure))
		}
	}
	c.ok = h.Cycles > 0 && len(failed) == 0
	c.detail = fmt.Sprintf("%d cycles through %d items", h.Cycles, len(h.Items))
	if len(failed) > 0 {
		c.detail += "; failed: " + strings.Join(failed, "; ")
	}
	return c
}

// writeSummary writes the figures of both runs side by side, then the
// checks.
func writeSummary(w io.Writer, runs []run, checks []check) error {
	var b strings.Builder
	row := func(label string, f func(r run) string) {
		fmt.Fprintf(&b, "%-24s", label)
		for _, r := range runs {
			v := "-"
			if r.rep != nil {
				v = f(r)
			}
			fmt.Fprintf(&b, " %-26s", v)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-24s", "")
	for _, r := range runs {
		fmt.Fprintf(&b, " %-26s", r.name)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%-24s", "server RSS min / max")
	for _, r := range runs {
		v := "-"
		if len(r.rss) > 0 {
			lo, hi := minMax(r.rss)
			v = mib(lo) + " / " + mib(hi)
		}
		fmt.Fprintf(&b, " %-26s", v)
	}
	b.WriteString("\n")
	row("clients connected", func(r run) string {
		return fmt.Sprintf("%d of %d, %d steady", r.rep.Connected, r.rep.Clients, r.rep.Steady)
	})
	row("churn left / joined", func(r run) string {
		if r.rep.Churn == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d (%d failed)", r.rep.Churn.Left, r.rep.Churn.Joined, r.rep.Churn.JoinFailed)
	})
	row("sent in the window", func(r run) string { return fmt.Sprintf("%d (%d due, not sent)", r.rep.Sent, r.rep.Unsent) })
	row("acked", func(r run) string { return ackField(r, func(a *bench.AckStats) uint64 { return a.Acked }) })
	row("acked lost (missing)", func(r run) string {
		if r.rep.Acks == nil {
			return "-"
		}
		return fmt.Sprintf("%d (%d)", r.rep.Acks.Lost, r.rep.Acks.Missing)
	})
	row("unanswered / refused", func(r run) string {
		if r.rep.Acks == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", r.rep.Acks.Unanswered, r.rep.Acks.Refused)
	})
	row("deliveries (steady)", func(r run) string { return fmt.Sprintf("%d of %d", r.rep.Received, r.rep.Expected) })
	row("dropped", func(r run) string { return fmt.Sprint(r.rep.Dropped) })
	row("latency p50 / p99", func(r run) string {
		return fmt.Sprintf("%.2f / %.2f ms", r.rep.LatencyP50MS, r.rep.LatencyP99MS)
	})
	row("latency max", func(r run) string { return fmt.Sprintf("%.2f ms", r.rep.LatencyMaxMS) })
	row("server CPU", func(r run) string {
		if r.rep.Server == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f s", r.rep.Server.CPUSeconds)
	})
	row("machine busy (others)", func(r run) string {
		return fmt.Sprintf("%.0f%% (%.0f%%)", 100*r.rep.HostBusy, 100*r.rep.OtherBusy)
	})
	row("hostile cycles / fails", func(r run) string {
		if r.rep.Hostile == nil {
			return "-"
		}
		return fmt.Sprintf("%d / %d", r.rep.Hostile.Cycles, r.rep.Hostile.Failed())
	})
	b.WriteString("\n")
	for _, r := range runs {
		if r.rep != nil && r.rep.OtherBusy > noisyBusy {
			fmt.Fprintf(&b, "note: other programs kept %.0f%% of the CPUs busy during the %s run: its latencies say more about them than about parley\n",
				100*r.rep.OtherBusy, r.name)
		}
	}
	for _, c := range checks {
		status := "PASS"
		if !c.ok {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %s: %s\n", status, c.name, c.detail)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// noisyBusy is the share of the CPUs that other programs may keep busy
// before the summary notes that a run's latencies are theirs.
const noisyBusy = 0.15

// ackField prints a figure of a run's acks.
func ackField(r run, f func(*bench.AckStats) uint64) string {
	if r.rep.Acks == nil {
		return "-"
	}
	return fmt.Sprint(f(r.rep.Acks))
}
