package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRedisURL(t *testing.T) {
	type want struct {
		kind                 string
		addrs                []string // the server, the sentinels or the cluster's seeds
		master               string
		db                   int
		user, password       string
		sentinelUser, sentPw string
		tls                  bool
		dialTimeout          time.Duration
	}
	tests := []struct {
		name    string
		url     string
		want    want
		wantErr string // a substring; "" for none
	}{
		{name: "plain", url: "redis://127.0.0.1:6379/0", want: want{kind: "redis", addrs: []string{"127.0.0.1:6379"}}},
		{name: "database and password", url: "redis://:s3cret@r.example:6380/3", want: want{kind: "redis", addrs: []string{"r.example:6380"}, db: 3, password: "s3cret"}},
		{name: "TLS and an option", url: "rediss://u:p@r.example/1?dial_timeout=2s", want: want{kind: "redis", addrs: []string{"r.example:6379"}, db: 1, user: "u", password: "p", tls: true, dialTimeout: 2 * time.Second}},
		{name: "scheme in capitals", url: "REDIS://r.example", want: want{kind: "redis", addrs: []string{"r.example:6379"}}},
		{
			name: "sentinel",
			url:  "redis+sentinel://s1.example:26379,s2.example:26379/mymaster/2",
			want: want{kind: "sentinel", addrs: []string{"s1.example:26379", "s2.example:26379"}, master: "mymaster", db: 2},
		},
		{
			name: "sentinel with credentials",
			url:  "rediss+sentinel://app:pw@[::1]:26379,s2.example:26380/mymaster?sentinel_password=spw&dial_timeout=1s",
			want: want{kind: "sentinel", addrs: []string{"[::1]:26379", "s2.example:26380"}, master: "mymaster", user: "app", password: "pw", sentPw: "spw", tls: true, dialTimeout: time.Second},
		},
		{
			name: "cluster",
			url:  "redis+cluster://h1.example:7000,h2.example:7001,h3.example",
			want: want{kind: "cluster", addrs: []string{"h1.example:7000", "h2.example:7001", "h3.example:6379"}},
		},
		{
			name: "cluster with TLS and a password",
			url:  "rediss+cluster://:pw@h1.example:7000/?pool_size=5",
			want: want{kind: "cluster", addrs: []string{"h1.example:7000"}, password: "pw", tls: true},
		},

		{name: "not a URL", url: "r.example:6379", wantErr: "want a URL"},
		{name: "other scheme", url: "http://r.example", wantErr: "scheme"},
		{name: "other mode", url: "redis+socket://r.example", wantErr: "scheme"},
		{name: "several hosts without a mode", url: "redis://h1,h2", wantErr: "2 hosts"},
		{name: "empty host", url: "redis+cluster://h1,,h2", wantErr: "empty host"},
		{name: "bare IPv6", url: "redis://::1:6379", wantErr: "brackets"},
		{name: "unknown option", url: "redis://r.example?colour=blue", wantErr: "colour"},
		{name: "sentinel without master", url: "redis+sentinel://s1:26379", wantErr: "master-name"},
		{name: "sentinel with too long a path", url: "redis+sentinel://s1:26379/m/0/x", wantErr: "master-name"},
		{name: "sentinel master twice", url: "redis+sentinel://s1:26379/m?master_name=n", wantErr: "master_name"},
		{name: "sentinel bad db", url: "redis+sentinel://s1:26379/m/x", wantErr: "database"},
		{name: "cluster database", url: "redis+cluster://h1/2", wantErr: "database 0 only"},
		{name: "cluster addr option", url: "redis+cluster://h1?addr=h2:6379", wantErr: "commas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRedisURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseRedisURL(%q) = %v, want an error containing %q", tt.url, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRedisURL(%q): %v", tt.url, err)
			}
			var g want
			g.kind = got.kind()
			switch {
			case got.single != nil:
				o := got.single
				g.addrs, g.db, g.user, g.password, g.tls, g.dialTimeout = []string{o.Addr}, o.DB, o.Username, o.Password, o.TLSConfig != nil, o.DialTimeout
			case got.failover != nil:
				o := got.failover
				g.addrs, g.master, g.db, g.user, g.password = o.SentinelAddrs, o.MasterName, o.DB, o.Username, o.Password
				g.sentinelUser, g.sentPw, g.tls, g.dialTimeout = o.SentinelUsername, o.SentinelPassword, o.TLSConfig != nil, o.DialTimeout
			case got.cluster != nil:
				o := got.cluster
				g.addrs, g.user, g.password, g.tls, g.dialTimeout = o.Addrs, o.Username, o.Password, o.TLSConfig != nil, o.DialTimeout
			}
			if tt.want.dialTimeout == 0 {
				g.dialTimeout = 0 // go-redis's default, whatever it is
			}
			if !slices.Equal(g.addrs, tt.want.addrs) || g.kind != tt.want.kind || g.master != tt.want.master || g.db != tt.want.db ||
				g.user != tt.want.user || g.password != tt.want.password || g.sentinelUser != tt.want.sentinelUser ||
				g.sentPw != tt.want.sentPw || g.tls != tt.want.tls || g.dialTimeout != tt.want.dialTimeout {
				t.Errorf("parseRedisURL(%q)\n got %+v\nwant %+v", tt.url, g, tt.want)
			}
		})
	}
}

// TestParseRedisURLHidesPassword checks that an error never repeats the
// URL, whose password would reach the logs.
func TestParseRedisURLHidesPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:hunter2@r.example?colour=blue",
		"redis+sentinel://:hunter2@s1/m/x",
		"redis+cluster://:hunter2@h1/7",
		"ftp://:hunter2@r.example",
	} {
		_, err := parseRedisURL(u)
		if err == nil {
			t.Fatalf("parseRedisURL(%q) succeeded", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("parseRedisURL(%q) error %q shows the password", u, err)
		}
	}
}

// FuzzParseRedisURL checks that no input makes the parser panic, and that
// what it accepts makes a client.
func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379/0", "rediss://u:p@h/1?dial_timeout=2s", "redis+sentinel://a:26379,b:26379/m/0",
		"rediss+sentinel://u:p@[::1]:26379/m?sentinel_password=x", "redis+cluster://h1:7000,h2", "redis://", "redis+cluster://@/",
		"redis://h?addr=x", "redis+sentinel:///", "redis://a@b@c:1/2?x=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseRedisURL(s)
		if err != nil {
			return
		}
		if got.single == nil && got.failover == nil && got.cluster == nil {
			t.Fatalf("parseRedisURL(%q) accepted it with no options", s)
		}
		c := got.client()
		_ = c.Close()
	})
}
