package metrics

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisHook returns the hook that times a cluster node's writes of
// broadcasts to Redis (parley_redis_publish_seconds) and counts the Redis
// commands that fail (parley_redis_errors_total), to add to the node's
// client with AddHook. It sees every command of the client, the
// cluster's and the presence's alike. Without Config.Cluster it does
// nothing.
func (m *Metrics) RedisHook() redis.Hook { return redisHook{m} }

// redisHook is the go-redis hook of a Metrics.
type redisHook struct{ m *Metrics }

// publishes are the commands that carry broadcasts to the other nodes.
var publishes = map[string]bool{"xadd": true, "publish": true, "spublish": true}

// setup are the commands go-redis sends on a new connection, some of them
// optional (CLIENT SETINFO, unknown before Redis 7.2): it goes on without
// them, and so their refusals are none of parley's failures.
var setup = map[string]bool{"hello": true, "client": true}

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	if h.m.redisPublish == nil {
		return next
	}
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		if publishes[cmd.Name()] {
			h.m.redisPublish.Observe(time.Since(start).Seconds())
		}
		if failed(ctx, cmd.Name(), err) {
			h.m.redisErrors.Inc()
		}
		return err
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	if h.m.redisPublish == nil {
		return next
	}
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		took := time.Since(start)
		publish := false
		for _, c := range cmds {
			publish = publish || publishes[c.Name()]
			if failed(ctx, c.Name(), c.Err()) {
				h.m.redisErrors.Inc()
			}
		}
		if publish {
			h.m.redisPublish.Observe(took.Seconds())
		}
		return err
	}
}

// failed reports whether err, that of a command called name, is a
// failure: not an empty answer (redis.Nil: a blocking read that timed
// out, a key not found), not the refusal of a connection's optional setup,
// not NOSCRIPT (a script's EVALSHA before Redis knows it, which go-redis
// follows with an EVAL), and not the end of the caller's context or of
// the client, which are how a node stops.
func failed(ctx context.Context, name string, err error) bool {
	var rerr redis.Error
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, redis.ErrClosed):
		return false
	case setup[name] && errors.As(err, &rerr), redis.HasErrorPrefix(err, "NOSCRIPT"):
		return false
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, net.ErrClosed)):
		return false
	}
	return true
}
