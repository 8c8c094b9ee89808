package admin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions keeps the session ids of UIs that logged in, for their later
// logins. Implementations are safe for concurrent use.
type Sessions interface {
	// Exists reports whether id is a session kept and not expired.
	Exists(ctx context.Context, id string) (bool, error)
	// Save keeps id as a session.
	Save(ctx context.Context, id string) error
}

// maxMemorySessions bounds the sessions a memory store keeps: past it the
// one that expires first goes. Only logins that succeeded make sessions.
const maxMemorySessions = 10_000

// memorySessions keeps sessions in memory, for one node.
type memorySessions struct {
	ttl time.Duration

	mu      sync.Mutex // a leaf
	expires map[string]time.Time
}

// NewMemorySessions returns a Sessions in memory whose sessions last ttl.
func NewMemorySessions(ttl time.Duration) Sessions {
	return &memorySessions{ttl: ttl, expires: make(map[string]time.Time)}
}

func (m *memorySessions) Exists(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.expires[id]
	if ok && time.Now().After(exp) {
		delete(m.expires, id)
		ok = false
	}
	return ok, nil
}

func (m *memorySessions) Save(_ context.Context, id string) error {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.expires) >= maxMemorySessions {
		var first string
		for k, exp := range m.expires {
			if now.After(exp) {
				delete(m.expires, k)
			} else if first == "" || exp.Before(m.expires[first]) {
				first = k
			}
		}
		if len(m.expires) >= maxMemorySessions {
			delete(m.expires, first)
		}
	}
	m.expires[id] = now.Add(m.ttl)
	return nil
}

// RedisSessionPrefix is the key prefix of the sessions RedisSessions keeps,
// the reference's RedisStore's: a cluster of parley and Node.js servers
// that use it shares its sessions.
const RedisSessionPrefix = "socket.io-admin"

// redisSessions keeps sessions in Redis, shared by a cluster's nodes.
type redisSessions struct {
	client redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// RedisSessions returns a Sessions in Redis, as the reference's RedisStore
// keeps them: the key prefix, "#" and the id, set to "1" for ttl. An
// empty prefix is RedisSessionPrefix.
func RedisSessions(client redis.UniversalClient, prefix string, ttl time.Duration) Sessions {
	if prefix == "" {
		prefix = RedisSessionPrefix
	}
	return &redisSessions{client: client, prefix: prefix, ttl: ttl}
}

func (r *redisSessions) key(id string) string { return r.prefix + "#" + id }

func (r *redisSessions) Exists(ctx context.Context, id string) (bool, error) {
	n, err := r.client.Exists(ctx, r.key(id)).Result()
	if err != nil {
		return false, fmt.Errorf("admin: reading a session from Redis: %w", err)
	}
	return n == 1, nil
}

func (r *redisSessions) Save(ctx context.Context, id string) error {
	if err := r.client.Set(ctx, r.key(id), "1", r.ttl).Err(); err != nil {
		return fmt.Errorf("admin: keeping a session in Redis: %w", err)
	}
	return nil
}
