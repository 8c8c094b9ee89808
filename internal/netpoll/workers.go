package netpoll

import (
	"sync/atomic"
	"time"
)

// maxIdleWorkers bounds the goroutines kept waiting for work.
const maxIdleWorkers = 16

// workerIdle is how long a goroutine waits for work before it ends: a
// server with nothing to do keeps none.
const workerIdle = time.Second

// workers runs callbacks on goroutines kept for reuse. A goroutine started
// for each callback begins with a small stack, which the callback's work
// (reading, parsing, writing, a chat message's delivery) grows again each
// time, copying it: a kept goroutine's stack has grown already, and a
// hand-off to it costs less than a new goroutine. At most maxIdleWorkers
// wait; more are started when as many callbacks run at once, and end when
// theirs does.
type workers struct {
	work chan func()
	idle atomic.Int32
}

func newWorkers() *workers { return &workers{work: make(chan func())} }

// run calls f on a waiting goroutine, or on a new one.
func (w *workers) run(f func()) {
	select {
	case w.work <- f:
	default:
		go w.loop(f)
	}
}

// loop calls f, then what it is handed, until it is handed nil, waits
// workerIdle for more, or enough others wait.
func (w *workers) loop(f func()) {
	var idle *time.Timer
	for f != nil {
		f()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case f = <-w.work:
		case <-idle.C:
			f = nil
		}
		w.idle.Add(-1)
	}
	if idle != nil {
		idle.Stop()
	}
}

// stop ends the goroutines waiting now.
func (w *workers) stop() {
	for w.idle.Load() > 0 {
		select {
		case w.work <- nil:
		default:
			return
		}
	}
}
