// Package redistest gives tests a Redis of their own: a client of the
// server named by PARLEY_TEST_REDIS, and a key prefix of their own, whose
// keys are deleted when the test ends. Tests skip when the variable is
// unset. It is for tests only.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable that holds the URL of the test Redis.
const EnvURL = "PARLEY_TEST_REDIS"

// URL returns the URL of the test Redis, or skips the test.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		tb.Skipf("Redis tests skipped: set %s to a URL, e.g. redis://127.0.0.1:6379/0", EnvURL)
	}
	return u
}

// Client returns a client of the test Redis, closed when the test ends,
// after checking that the server answers.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL(tb))
	if err != nil {
		tb.Fatalf("%s: %v", EnvURL, err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("Redis at %s: %v", EnvURL, err)
	}
	return c
}

// Prefix returns a key prefix of the test's own, such as
// "parley-test-3f9k2m1x0a7q", and deletes every key that starts with it
// when the test ends.
func Prefix(tb testing.TB) string {
	tb.Helper()
	c := Client(tb)
	p := "parley-test-" + strings.ToLower(rand.Text()[:12])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("listing the keys of %s: %v", p, err)
			return
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("deleting the keys of %s: %v", p, err)
			}
		}
	})
	return p
}
