package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store"
)

// readyTimeout is how long each dependency has to answer a readiness
// check.
const readyTimeout = time.Second

// Log attribute key of the readiness checks.
const logKeyCheck = "check"

// The names that a /readyz body gives what fails.
const (
	checkStore    = "store"
	checkRedis    = "redis"
	checkShutdown = "shutdown"
)

// readiness answers /readyz: whether this node should be sent traffic.
// It is ready while its store (and, in a cluster, its Redis) answers
// within readyTimeout, and until its graceful shutdown starts, when it
// says it is not, so that a load balancer stops sending it clients before
// their connections close. /healthz, liveness, says only that the process
// answers. It is safe for concurrent use.
type readiness struct {
	checks   []*readyCheck
	timeout  time.Duration
	log      *slog.Logger
	draining atomic.Bool
}

// readyCheck is one dependency of readiness. At most one run of it is
// under way: a request that finds one still waiting (on a dependency that
// does not heed its context) waits for that one, rather than start another.
type readyCheck struct {
	name  string
	check func(context.Context) error

	mu      sync.Mutex
	running *checkRun // the run under way, nil when none
	failing bool      // the last answer, to log changes only
}

// checkRun is one run of a readyCheck: err is set before done is closed.
type checkRun struct {
	done chan struct{}
	err  error
}

// newReadiness returns the readiness of the checks.
func newReadiness(log *slog.Logger, checks ...*readyCheck) *readiness {
	return &readiness{checks: checks, timeout: readyTimeout, log: log}
}

// storeCheck checks that st answers: a read of the default room.
func storeCheck(st store.Store) *readyCheck {
	return &readyCheck{name: checkStore, check: func(ctx context.Context) error {
		_, err := st.Room(ctx, chat.DefaultRoom)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}}
}

// redisCheck checks that Redis answers a PING.
func redisCheck(c redis.UniversalClient) *readyCheck {
	return &readyCheck{name: checkRedis, check: func(ctx context.Context) error {
		return c.Ping(ctx).Err()
	}}
}

// drain makes readiness answer 503 from now on: the graceful shutdown has
// started.
func (rd *readiness) drain() { rd.draining.Store(true) }

// readyBody is the JSON of a /readyz answer: Failing maps what fails to
// why (not answering in time, or answering with an error, whose text is
// logged, not shown).
type readyBody struct {
	Ready   bool              `json:"ready"`
	Failing map[string]string `json:"failing,omitempty"`
}

// ServeHTTP implements http.Handler.
func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := readyBody{Ready: true}
	if rd.draining.Load() {
		body = readyBody{Failing: map[string]string{checkShutdown: "shutting down"}}
	} else if failing := rd.run(r.Context()); len(failing) > 0 {
		body = readyBody{Failing: failing}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// run runs every check at once and returns what failed, and why.
func (rd *readiness) run(ctx context.Context) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, rd.timeout)
	defer cancel()
	type outcome struct {
		name, why string
	}
	results := make(chan outcome, len(rd.checks))
	for _, c := range rd.checks {
		go func() { results <- outcome{c.name, c.run(ctx, rd.timeout, rd.log)} }()
	}
	var failing map[string]string
	for range rd.checks {
		if o := <-results; o.why != "" {
			if failing == nil {
				failing = make(map[string]string)
			}
			failing[o.name] = o.why
		}
	}
	return failing
}

// run runs the check, within timeout, or waits for the run under way,
// until ctx is done, and returns why it fails, "" if it does not.
func (c *readyCheck) run(ctx context.Context, timeout time.Duration, log *slog.Logger) string {
	c.mu.Lock()
	cr := c.running
	if cr == nil {
		cr = &checkRun{done: make(chan struct{})}
		c.running = cr
		// The check gets a context of its own: one that the end of the
		// request that started it does not cut, but that ends in time.
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		go func() {
			defer cancel()
			cr.err = c.check(cctx)
			c.mu.Lock()
			c.running = nil
			c.mu.Unlock()
			close(cr.done)
		}()
	}
	c.mu.Unlock()
	var err error
	select {
	case <-cr.done:
		err = cr.err
	case <-ctx.Done():
		err = ctx.Err()
		if errors.Is(err, context.Canceled) {
			return "canceled" // the request is gone: nobody reads it
		}
	}
	why := ""
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		why = "timeout"
	case err != nil:
		why = "error"
	}
	c.mu.Lock()
	changed := c.failing != (why != "")
	c.failing = why != ""
	c.mu.Unlock()
	switch {
	case changed && err != nil:
		log.Warn("not ready", logKeyCheck, c.name, "err", err)
	case changed:
		log.Info("ready again", logKeyCheck, c.name)
	case err != nil:
		log.Debug("still not ready", logKeyCheck, c.name, "err", err)
	}
	return why
}
