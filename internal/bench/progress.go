package bench

import (
	"fmt"
	"io"
	"time"
)

// progress writes a line about a run each second, from its own goroutine,
// until stop.
type progress struct {
	r     *runner
	w     io.Writer
	start time.Time
	stopc chan struct{}
	done  chan struct{}
}

func startProgress(r *runner, w io.Writer) *progress {
	p := &progress{r: r, w: w, start: time.Now(), stopc: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var last totals
	lastAt := p.start
	for {
		select {
		case <-p.stopc:
			return
		case now := <-t.C:
			cur := p.r.totals()
			secs := now.Sub(lastAt).Seconds()
			p.line(now, float64(cur.live-last.live)/secs, float64(cur.events-last.events)/secs)
			last, lastAt = cur, now
		}
	}
}

// line writes one progress line: deliveries of the run's messages per
// second, and events of any kind per second.
func (p *progress) line(now time.Time, rate, events float64) {
	r := p.r
	joined, failed, dropped := r.nJoined.Load(), r.nFailed.Load(), r.nDropped.Load()
	joined -= r.nSlowCutOff.Load()
	left, rejoined := r.nLeft.Load(), r.nRejoined.Load()
	sent, _ := r.sent()
	p99 := "-"
	if h := r.latencies(); h.Count() > 0 {
		p99 = fmtDuration(h.Quantile(0.99))
	}
	churn := ""
	if r.cfg.Churn > 0 {
		churn = fmt.Sprintf(" churn %d left %d joined |", left, rejoined)
	}
	fmt.Fprintf(p.w, "bench %3.0fs %-10s connected %d/%d failed %d dropped %d |%s sent %d | %.0f deliveries/s (%.0f events/s) | p99 %s\n",
		now.Sub(p.start).Seconds(), r.phase.Load(), joined+rejoined-left-dropped, r.cfg.Clients, failed, dropped, churn, sent, rate, events, p99)
}

func (p *progress) stop() {
	close(p.stopc)
	<-p.done
}
