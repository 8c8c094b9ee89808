package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/admin"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/store/open"
)

// config is the command's configuration, from flags and environment.
type config struct {
	Addr             string
	Origins          []string
	LogLevel         slog.Level
	Dev              bool
	DevDir           string
	MaxNameLength    int
	MaxMessageLength int
	ShutdownTimeout  time.Duration
	DebugAddr        string
	// MetricsAddr, when set, serves /metrics on a listener of its own
	// rather than on Addr.
	MetricsAddr string
	Store       string
	// AllowedHosts are the host names, besides loopback names, IP
	// addresses and the machine's name, that requests may name in their
	// Host header (see hostPolicy); "*" allows any.
	AllowedHosts []string
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-Proto and X-Forwarded-Host are believed, and whose
	// connections are not capped per address.
	TrustedProxies []netip.Prefix
	// MaxConns caps the open connections in total, MaxConnsPerIP those
	// of one client address (an IPv6 /64); 0 for no cap.
	MaxConns      int
	MaxConnsPerIP int
	// BodyTimeout bounds the reading of a request's body.
	BodyTimeout time.Duration
	// RoomsPerPerson and RoomsPerIP cap the rooms one person, and one
	// client address, may create within RoomIdle; MaxRooms caps the rooms
	// listed (in use within RoomIdle); 0 for no cap. RoomIdle is how long
	// an empty room stays listed after it was last in use.
	RoomsPerPerson int
	RoomsPerIP     int
	MaxRooms       int
	RoomIdle       time.Duration
	// NameReserve is how long a guest's name stays theirs after they were
	// last seen.
	NameReserve time.Duration
	// PresenceGrace is how long someone whose page closed or whose
	// connection dropped stays listed, so that a reload or a reconnection
	// within it is no news.
	PresenceGrace time.Duration
	// JWTSecret (HS256) or JWTPublicKey (the path of a PEM file: RS256,
	// ES256...) put the chat in app mode, trusting the identities of a
	// host application's tokens; JWTIssuer and JWTAudience, when set,
	// are what those tokens must say.
	JWTSecret    string
	JWTPublicKey string
	JWTIssuer    string
	JWTAudience  string
	// Redis, when set, makes this process a node of a cluster: the URL of
	// the Redis that the nodes share (see redis.go for its forms). It
	// needs a store that the nodes share too: PostgreSQL.
	Redis string
	// AdminUser and AdminPasswordHash (bcrypt), when set, serve the
	// Socket.IO Admin UI's protocol on /admin; AdminMode is development
	// (every socket's events) or production (aggregated stats only).
	AdminUser         string
	AdminPasswordHash string
	AdminMode         string
}

// envFlags are the flags that environment variables set.
var envFlags = []struct{ env, flag string }{
	{"PARLEY_ADDR", "addr"},
	{"PARLEY_ORIGINS", "origins"},
	{"PARLEY_LOG_LEVEL", "log-level"},
	{"PARLEY_DEV", "dev"},
	{"PARLEY_DEV_DIR", "dev-dir"},
	{"PARLEY_MAX_NAME", "max-name"},
	{"PARLEY_MAX_MESSAGE", "max-message"},
	{"PARLEY_DEBUG_ADDR", "debug-addr"},
	{"PARLEY_METRICS_ADDR", "metrics-addr"},
	{"PARLEY_STORE", "store"},
	{"PARLEY_ALLOWED_HOSTS", "allowed-hosts"},
	{"PARLEY_TRUSTED_PROXIES", "trusted-proxies"},
	{"PARLEY_MAX_CONNECTIONS", "max-connections"},
	{"PARLEY_MAX_CONNECTIONS_PER_IP", "max-connections-per-ip"},
	{"PARLEY_BODY_TIMEOUT", "body-timeout"},
	{"PARLEY_ROOMS_PER_PERSON", "rooms-per-person"},
	{"PARLEY_ROOMS_PER_IP", "rooms-per-ip"},
	{"PARLEY_MAX_ROOMS", "max-rooms"},
	{"PARLEY_ROOM_IDLE", "room-idle"},
	{"PARLEY_NAME_RESERVE", "name-reserve"},
	{"PARLEY_PRESENCE_GRACE", "presence-grace"},
	{"PARLEY_JWT_SECRET", "jwt-secret"},
	{"PARLEY_JWT_PUBLIC_KEY", "jwt-public-key"},
	{"PARLEY_JWT_ISSUER", "jwt-issuer"},
	{"PARLEY_JWT_AUDIENCE", "jwt-audience"},
	{"PARLEY_REDIS", "redis"},
	{"PARLEY_ADMIN_USER", "admin-user"},
	{"PARLEY_ADMIN_PASSWORD_HASH", "admin-password-hash"},
	{"PARLEY_ADMIN_MODE", "admin-mode"},
}

// Defaults of the limits that flags set.
const (
	defaultMaxConns      = 10_000
	defaultMaxConnsPerIP = 100
	defaultBodyTimeout   = 10 * time.Second
	defaultNameReserve   = 30 * 24 * time.Hour
	defaultPresenceGrace = 10 * time.Second
)

// usageHeader opens parley -h: the two ways to run the command.
const usageHeader = `Usage:
  parley [flags]          serve the chat
  parley bench [flags]    load generator for a running parley (parley bench -h lists its flags)

Every flag has an environment variable (named after it); a flag given on the command line wins.

Flags:
`

// parseConfig reads flags, with PARLEY_* environment variables as their
// defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var (
		cfg                   config
		origins, hosts, proxy string
	)
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Addr, "addr", ":3000", "address to listen on (PARLEY_ADDR)")
	fs.StringVar(&origins, "origins", "", "comma-separated origins allowed to connect from other sites, * for any; default same-origin only (PARLEY_ORIGINS)")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.BoolVar(&cfg.Dev, "dev", false, "serve the page's files from disk, so that edits show on reload (PARLEY_DEV)")
	fs.StringVar(&cfg.DevDir, "dev-dir", "web/static", "directory of the page's files with --dev (PARLEY_DEV_DIR)")
	fs.IntVar(&cfg.MaxNameLength, "max-name", 32, "longest name, in characters (PARLEY_MAX_NAME)")
	fs.IntVar(&cfg.MaxMessageLength, "max-message", 2000, "longest message, in characters (PARLEY_MAX_MESSAGE)")
	fs.StringVar(&cfg.Store, "store", "parley.db", "message history: a SQLite file path, a postgres:// URL, or memory for development (lost on exit) (PARLEY_STORE)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", "", "address for /debug/pprof/, off when empty; keep it on loopback (PARLEY_DEBUG_ADDR)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "address to serve /metrics on instead of --addr, such as 127.0.0.1:9090; default: on --addr (PARLEY_METRICS_ADDR)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	fs.StringVar(&hosts, "allowed-hosts", "", "comma-separated host names requests may be addressed to, besides localhost, IP addresses and the machine's name; .example.com for it and its subdomains, * for any (PARLEY_ALLOWED_HOSTS)")
	fs.StringVar(&proxy, "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-Proto and X-Forwarded-Host are believed and whose connections are not capped per address (PARLEY_TRUSTED_PROXIES)")
	fs.IntVar(&cfg.MaxConns, "max-connections", defaultMaxConns, "most open connections, WebSockets included; 0 for no cap (PARLEY_MAX_CONNECTIONS)")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-connections-per-ip", defaultMaxConnsPerIP, "most open connections from one client address (an IPv6 /64; loopback and trusted proxies excepted); 0 for no cap (PARLEY_MAX_CONNECTIONS_PER_IP)")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", defaultBodyTimeout, "how long a request's body may take to arrive (PARLEY_BODY_TIMEOUT)")
	fs.IntVar(&cfg.RoomsPerPerson, "rooms-per-person", chat.DefaultRoomsPerPerson, "most rooms one person may create within --room-idle; 0 for no cap (PARLEY_ROOMS_PER_PERSON)")
	fs.IntVar(&cfg.RoomsPerIP, "rooms-per-ip", chat.DefaultRoomsPerAddress, "most rooms that may be created from one client address (an IPv6 /64; loopback and trusted proxies excepted, X-Forwarded-For believed from trusted proxies) within --room-idle; 0 for no cap (PARLEY_ROOMS_PER_IP)")
	fs.IntVar(&cfg.MaxRooms, "max-rooms", chat.DefaultMaxRooms, "most rooms listed (those in use within --room-idle); beyond it no room is created, existing ones may still be joined; 0 for no cap (PARLEY_MAX_ROOMS)")
	fs.DurationVar(&cfg.RoomIdle, "room-idle", chat.DefaultRoomIdle, "how long a room nobody is in stays listed after it was last in use (it keeps its history), and the window of the room caps (PARLEY_ROOM_IDLE)")
	fs.DurationVar(&cfg.NameReserve, "name-reserve", defaultNameReserve, "how long a guest's name stays theirs after they were last seen (PARLEY_NAME_RESERVE)")
	fs.DurationVar(&cfg.PresenceGrace, "presence-grace", defaultPresenceGrace, "how long someone whose page closed or whose connection dropped stays listed, so that a reload or a reconnection within it goes unannounced (PARLEY_PRESENCE_GRACE)")
	fs.StringVar(&cfg.JWTSecret, "jwt-secret", "", "app mode: the HS256 secret, at least 32 bytes, of the host application's tokens; prefer the variable, which the process list does not show (PARLEY_JWT_SECRET)")
	fs.StringVar(&cfg.JWTPublicKey, "jwt-public-key", "", "app mode: a PEM file with the host application's RS256 or ES256 public key (PARLEY_JWT_PUBLIC_KEY)")
	fs.StringVar(&cfg.JWTIssuer, "jwt-issuer", "", "app mode: the iss the tokens must have (PARLEY_JWT_ISSUER)")
	fs.StringVar(&cfg.JWTAudience, "jwt-audience", "", "app mode: an aud the tokens must have (PARLEY_JWT_AUDIENCE)")
	fs.StringVar(&cfg.Redis, "redis", "", "cluster mode: the URL of the Redis every node shares, redis://host:6379/0 (also rediss://, redis+sentinel://h1:26379,h2:26379/master/0, redis+cluster://h1:6379,h2:6379); needs a postgres:// --store; off when empty (PARLEY_REDIS)")
	fs.StringVar(&cfg.AdminUser, "admin-user", "", "the Socket.IO Admin UI's username; with --admin-password-hash, serves the UI's protocol on the /admin namespace (docs/operations.md); off when empty (PARLEY_ADMIN_USER)")
	fs.StringVar(&cfg.AdminPasswordHash, "admin-password-hash", "", "the bcrypt hash of the Admin UI's password, as htpasswd -nbB makes it; prefer the variable (PARLEY_ADMIN_PASSWORD_HASH)")
	fs.StringVar(&cfg.AdminMode, "admin-mode", string(admin.Development), "what the Admin UI is told: development, every socket's events as they happen, or production, the aggregated stats only (PARLEY_ADMIN_MODE)")
	// The environment sets flags through their own parsers, so that a bad
	// value is refused as it would be on the command line; the command
	// line, parsed next, wins.
	for _, e := range envFlags {
		if v := getenv(e.env); v != "" {
			if err := fs.Set(e.flag, v); err != nil {
				return config{}, fmt.Errorf("%s=%q: %w", e.env, v, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg.Origins = list(origins)
	var err error
	if cfg.MaxNameLength < 1 || cfg.MaxMessageLength < 1 {
		return config{}, fmt.Errorf("--max-name and --max-message must be positive")
	}
	if cfg.AllowedHosts, err = parseHosts(hosts); err != nil {
		return config{}, fmt.Errorf("--allowed-hosts: %w", err)
	}
	if cfg.TrustedProxies, err = parsePrefixes(proxy); err != nil {
		return config{}, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if cfg.MaxConns < 0 || cfg.MaxConnsPerIP < 0 {
		return config{}, fmt.Errorf("--max-connections and --max-connections-per-ip must not be negative")
	}
	if cfg.BodyTimeout <= 0 {
		return config{}, fmt.Errorf("--body-timeout must be positive")
	}
	if cfg.RoomsPerPerson < 0 || cfg.RoomsPerIP < 0 || cfg.MaxRooms < 0 {
		return config{}, fmt.Errorf("--rooms-per-person, --rooms-per-ip and --max-rooms must not be negative")
	}
	if cfg.RoomIdle <= 0 {
		return config{}, fmt.Errorf("--room-idle must be positive")
	}
	if cfg.NameReserve <= 0 {
		return config{}, fmt.Errorf("--name-reserve must be positive")
	}
	if cfg.PresenceGrace < 0 {
		return config{}, fmt.Errorf("--presence-grace must not be negative")
	}
	if cfg.Redis != "" {
		if _, err := parseRedisURL(cfg.Redis); err != nil {
			return config{}, fmt.Errorf("--redis: %w", err)
		}
		if !open.IsPostgres(cfg.Store) {
			return config{}, fmt.Errorf("--redis needs a shared store: --store must be a postgres:// URL that every node uses, since the nodes of a cluster share their history, identities and message ids; a SQLite file or memory is this process's alone")
		}
	}
	switch {
	case (cfg.AdminUser == "") != (cfg.AdminPasswordHash == ""):
		return config{}, fmt.Errorf("--admin-user and --admin-password-hash (PARLEY_ADMIN_USER, PARLEY_ADMIN_PASSWORD_HASH): give both, or neither")
	case cfg.AdminMode != string(admin.Development) && cfg.AdminMode != string(admin.Production):
		return config{}, fmt.Errorf("--admin-mode (PARLEY_ADMIN_MODE) %q: want development or production", cfg.AdminMode)
	}
	switch {
	case cfg.JWTSecret != "" && cfg.JWTPublicKey != "":
		return config{}, fmt.Errorf("--jwt-secret and --jwt-public-key: give one")
	case cfg.JWTSecret == "" && cfg.JWTPublicKey == "" && (cfg.JWTIssuer != "" || cfg.JWTAudience != ""):
		return config{}, fmt.Errorf("--jwt-issuer and --jwt-audience need --jwt-secret or --jwt-public-key")
	}
	return cfg, nil
}

// appMode reports whether the chat trusts a host application's tokens.
func (c config) appMode() bool { return c.JWTSecret != "" || c.JWTPublicKey != "" }

// list splits a comma-separated list, trimming its items and dropping
// empty ones.
func list(s string) []string {
	var items []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			items = append(items, v)
		}
	}
	return items
}

// parseHosts reads --allowed-hosts: host names, lowercased, without a
// port; a leading dot stands for a domain and its subdomains; * for any.
func parseHosts(s string) ([]string, error) {
	hosts := list(s)
	for i, h := range hosts {
		h = strings.TrimSuffix(strings.ToLower(h), ".")
		if h != "*" && (h == "" || h == "." || strings.ContainsAny(h, ":/[]@ *")) {
			return nil, fmt.Errorf("%q: want a host name without scheme or port, .domain, or *", hosts[i])
		}
		hosts[i] = h
	}
	return hosts, nil
}

// parsePrefixes reads --trusted-proxies: IP addresses and CIDR prefixes.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, v := range list(s) {
		if a, err := netip.ParseAddr(v); err == nil {
			a = a.Unmap()
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("%q: want an IP address or a CIDR prefix", v)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}
