// Command parley is a real-time chat server that speaks Socket.IO v4, with
// its own browser client and chat page, in one binary.
//
// Usage:
//
//	parley [flags]
//	parley bench [flags]
//
// Every flag has an environment variable equivalent (PARLEY_ADDR, ...);
// a flag given on the command line wins.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/admin"
	"github.com/parley-chat/parley/internal/chat"
	"github.com/parley-chat/parley/internal/cluster"
	"github.com/parley-chat/parley/internal/engineio"
	"github.com/parley-chat/parley/internal/identity"
	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/internal/presence"
	"github.com/parley-chat/parley/internal/socketio"
	"github.com/parley-chat/parley/internal/store"
	"github.com/parley-chat/parley/internal/store/open"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		if err := runBench(context.Background(), os.Args[2:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "parley bench:", err)
			os.Exit(1)
		}
		return
	}
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the usage is printed; asking for it is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		os.Exit(1)
	}
}

// run parses the configuration, serves until ctx is done or a signal
// arrives, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	app, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := app.close(); err != nil {
			log.Error("closing down", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("--metrics-addr: listening on %s: %w", cfg.MetricsAddr, err)
		}
	}
	// Loopback connections (a proxy on this machine, local tools) and
	// trusted proxies are capped in total only.
	trusted := proxies(cfg.TrustedProxies)
	exempt := func(a netip.Addr) bool { return a.IsLoopback() || trusted.trusts(a) }
	ln = newConnLimiter(ln, cfg.MaxConns, cfg.MaxConnsPerIP, exempt, log)
	// Long polls' connections are taken over by the Socket.IO server,
	// and handed back through ln when a request on one is not a poll.
	ln = app.sio.PollListener(ln)
	httpSrv := newHTTPServer(app.handler, log)
	errc := make(chan error, 3)
	go func() { errc <- httpSrv.Serve(ln) }()
	if mln != nil {
		metricsSrv := &http.Server{Handler: metricsRoutes(app.metrics), ReadHeaderTimeout: readHeaderTimeout}
		go func() { errc <- metricsSrv.Serve(mln) }()
		defer metricsSrv.Close()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	if cfg.DebugAddr != "" {
		debugSrv := &http.Server{Addr: cfg.DebugAddr, Handler: debugRoutes(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- debugSrv.ListenAndServe() }()
		defer debugSrv.Close()
		log.Info("debug endpoints", "addr", cfg.DebugAddr)
	}
	fmt.Fprintf(stdout, "parley is running: open %s in your browser\n", browserURL(ln.Addr()))
	log.Info("listening", "addr", ln.Addr().String(), "origins", cfg.Origins, "allowed_hosts", cfg.AllowedHosts,
		"max_connections", cfg.MaxConns, "max_connections_per_ip", cfg.MaxConnsPerIP, "dev", cfg.Dev)

	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// From now on /readyz answers 503, for load balancers to send new
	// clients elsewhere.
	app.ready.drain()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Close the Socket.IO connections first, flushing what is queued: long
	// polls are requests that http.Server.Shutdown would wait for.
	if err := app.sio.Shutdown(shutdownCtx); err != nil {
		log.Warn("closing connections", "err", err)
	}
	if err := httpSrv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// Limits of the HTTP server.
const (
	// maxHeaderBytes bounds the request line and the headers of a request
	// together, as Node.js does (16 KiB); a request with more is refused
	// with 431 Request Header Fields Too Large.
	maxHeaderBytes = 16 << 10
	// headerSlack is what net/http reads beyond http.Server.MaxHeaderBytes
	// before it refuses a request (its bufio slack, 4096 bytes): the limit
	// it enforces is MaxHeaderBytes + headerSlack.
	headerSlack = 4096
	// readHeaderTimeout bounds the reading of a request's line and headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection idle that long.
	idleTimeout = 2 * time.Minute
)

// newHTTPServer returns the server of handler, with parley's limits.
// It has no ReadTimeout or WriteTimeout: those bound the whole of each
// request or response, and would cut a long poll, which waits up to the
// ping interval for something to send.
func newHTTPServer(handler http.Handler, log *slog.Logger) *http.Server {
	silent := &silentConns{conns: make(map[net.Conn]struct{})}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes - headerSlack,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnState:         silent.track,
	}
	srv.RegisterOnShutdown(silent.closeAll)
	return srv
}

// silentConns holds the connections an http.Server has accepted and read
// nothing from, for its shutdown to close them at once. http.Server.Shutdown
// closes idle keep-alive connections but waits up to 5 s for one that has
// not spoken yet, and HTTP clients open spare connections they may never
// use (Go's http.Transport does, when another connection frees up first).
// Such a connection holds no request, so closing it loses nothing.
type silentConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is the server's ConnState hook: a connection is silent from its
// acceptance until it reads the first byte of a request.
func (s *silentConns) track(c net.Conn, state http.ConnState) {
	if state == http.StateIdle {
		return // only after StateActive, which forgot c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

// closeAll closes the connections that are silent now. Shutdown calls it
// after it has closed the listeners, so no new ones follow.
func (s *silentConns) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
		delete(s.conns, c)
	}
}

// browserURL is the address to print for people to open.
func browserURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// uncappedIfZero maps a flag's 0, no cap, to chat.Config's: negative.
func uncappedIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// app is the wired server: Socket.IO, the chat, its store and the web
// files.
type app struct {
	sio       *socketio.Server
	chat      *chat.Chat
	store     store.Store
	committer *store.Committer
	handler   http.Handler
	// metrics are the process's; ready answers /readyz.
	metrics *metrics.Metrics
	ready   *readiness
	// redis and node are the cluster's, with --redis; nil otherwise.
	redis redis.UniversalClient
	node  *cluster.Node
	// admin serves the Admin UI's protocol, with --admin-user; nil
	// otherwise.
	admin *admin.Admin
}

func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	files, err := webFiles(cfg)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	trusted := proxies(cfg.TrustedProxies)
	// Loopback clients (a proxy on this machine, local tools) and trusted
	// proxies are not limited per address: their address is not a
	// client's.
	exempt := func(a netip.Addr) bool { return a.IsLoopback() || trusted.trusts(a) }
	var (
		tokens   *identity.Tokens
		verifier *identity.Verifier
	)
	if cfg.appMode() {
		if verifier, err = newVerifier(cfg); err != nil {
			_ = st.Close()
			return nil, err
		}
	} else if tokens, err = chat.GuestTokens(ctx, st); err != nil {
		_ = st.Close()
		return nil, err
	}
	// The process's metrics observe the servers, from the first session.
	m := metrics.New(metrics.Config{Events: chat.Events(), Codes: chat.Codes(), Cluster: cfg.Redis != ""})
	a := &app{store: st, metrics: m}
	sioCfg := socketio.Config{
		Engine: engineio.Config{
			AllowedOrigins: cfg.Origins,
			TrustForwarded: trusted.trustsRequest,
			BodyTimeout:    cfg.BodyTimeout,
			Observer:       m,
		},
		Recovery: &socketio.RecoveryConfig{},
		Metrics:  m,
		Logger:   log,
	}
	if cfg.Redis != "" {
		if err := a.joinCluster(ctx, cfg.Redis, log); err != nil {
			_ = a.close()
			return nil, err
		}
		sioCfg.NewAdapter = a.node.NewAdapter
	}
	if cfg.AdminUser != "" {
		if a.admin, err = newAdmin(cfg, a.redis, a.node, trusted, log); err != nil {
			_ = a.close()
			return nil, err
		}
		sioCfg.Observer = a.admin
	}
	sio := socketio.NewServer(sioCfg)
	a.sio = sio
	if a.admin != nil {
		if err := a.admin.Start(sio); err != nil {
			_ = a.close()
			return nil, err
		}
	}
	var clusterCfg *chat.ClusterConfig
	if a.node != nil {
		pres, err := presence.New(presence.Config{Client: a.redis})
		if err != nil {
			_ = a.close()
			return nil, fmt.Errorf("--redis: %w", err)
		}
		clusterCfg = &chat.ClusterConfig{Presence: pres}
	}
	// The chat's messages are stored by a Committer of the app's own, which
	// the metrics observe.
	a.committer = store.NewCommitter(st, store.CommitterConfig{Logger: log, Observer: m})
	c, err := chat.New(chat.Config{
		Store:            st,
		Committer:        a.committer,
		MaxNameLength:    cfg.MaxNameLength,
		MaxMessageLength: cfg.MaxMessageLength,
		RoomsPerPerson:   uncappedIfZero(cfg.RoomsPerPerson),
		RoomsPerAddress:  uncappedIfZero(cfg.RoomsPerIP),
		MaxRooms:         uncappedIfZero(cfg.MaxRooms),
		RoomIdle:         cfg.RoomIdle,
		ClientAddress:    trusted.roomAddress,
		Tokens:           tokens,
		Verifier:         verifier,
		NameReserve:      cfg.NameReserve,
		PresenceGrace:    presenceGrace(cfg.PresenceGrace),
		ExemptAddress:    exempt,
		Cluster:          clusterCfg,
		Observer:         m,
		Logger:           log,
	}, sio.Of("/"))
	if err != nil {
		_ = a.close()
		return nil, err
	}
	a.chat = c
	m.Watch(a.sources())
	if a.node != nil {
		// The chat namespace's channels are subscribed to: from now on
		// this node hears the others.
		rctx, cancel := context.WithTimeout(ctx, redisStartTimeout)
		err := a.node.Ready(rctx)
		cancel()
		if err != nil {
			_ = a.close()
			return nil, fmt.Errorf("--redis: %w", err)
		}
	}
	machine, _ := os.Hostname() // without it, only the names listed
	hosts := newHostPolicy(cfg.AllowedHosts, machine)
	endpoint := newHandshakeGuard(sio, tokens, cfg.NameReserve, exempt, trusted, log)
	checks := []*readyCheck{storeCheck(st)}
	if a.redis != nil {
		checks = append(checks, redisCheck(a.redis))
	}
	a.ready = newReadiness(log, checks...)
	endpoint.limited = m.RateLimited
	var metricsHandler http.Handler // on --metrics-addr, when set
	if cfg.MetricsAddr == "" {
		metricsHandler = m.Handler()
	}
	handler := securityHeaders(checkHost(hosts, trusted, log, limitBody(cfg.BodyTimeout, routes(endpoint, files, a.ready, metricsHandler))))
	a.handler = handler
	return a, nil
}

// sources are what the metrics' gauges of the app's state read.
func (a *app) sources() metrics.Sources {
	s := metrics.Sources{
		Sockets: func(yield func(string, int)) {
			for _, n := range a.sio.Namespaces() {
				yield(n.Name(), n.SocketCount())
			}
		},
		People: a.chat.PeopleOnline,
		Rooms:  a.chat.RoomsInUse,
	}
	if a.node != nil {
		s.ClusterNodes = func() int { return len(a.node.Peers()) + 1 }
	}
	return s
}

// joinCluster connects to the Redis of url and starts this process's node
// of the cluster.
func (a *app) joinCluster(ctx context.Context, url string, log *slog.Logger) error {
	target, err := parseRedisURL(url)
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	a.redis = target.client()
	a.redis.AddHook(a.metrics.RedisHook())
	if err := pingRedis(ctx, a.redis); err != nil {
		return err
	}
	// A stream reader's blocking read ends only when it times out, and
	// leaving the cluster waits for it: a short one keeps the shutdown
	// short, for one idle XREAD a second.
	node, err := cluster.New(cluster.Config{Client: a.redis, BlockTime: clusterBlockTime, Logger: log})
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	a.node = node
	log.Info("cluster node", "node", node.UID(), "redis", target.kind())
	return nil
}

// newAdmin returns the Admin UI's server that cfg configures: with
// --redis, its sessions are in the cluster's Redis, where every node
// finds them.
func newAdmin(cfg config, rdb redis.UniversalClient, node *cluster.Node, trusted proxies, log *slog.Logger) (*admin.Admin, error) {
	ac := admin.Config{
		Username:      cfg.AdminUser,
		PasswordHash:  cfg.AdminPasswordHash,
		Mode:          admin.Mode(cfg.AdminMode),
		ClientAddress: trusted.clientAddress,
		Cluster:       rdb != nil,
		Logger:        log,
	}
	if rdb != nil {
		ac.Sessions = admin.RedisSessions(rdb, "", admin.DefaultSessionTTL)
	}
	if node != nil {
		// The UI tells servers apart by id: a node's is its host's name
		// and its id in the cluster, which no other node shares.
		host, _ := os.Hostname()
		ac.ServerID = host + "#" + node.UID()
	}
	adm, err := admin.New(ac)
	if err != nil {
		return nil, fmt.Errorf("--admin-user: %w", err)
	}
	return adm, nil
}

// newVerifier returns the verifier of the host application's tokens that
// cfg configures.
func newVerifier(cfg config) (*identity.Verifier, error) {
	vc := identity.VerifierConfig{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, Leeway: jwtLeeway}
	if cfg.JWTSecret != "" {
		vc.HMACSecret = []byte(cfg.JWTSecret)
	} else {
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("--jwt-public-key: %w", err)
		}
		vc.PublicKeyPEM = pem
	}
	v, err := identity.NewVerifier(vc)
	if err != nil {
		return nil, fmt.Errorf("app mode: %w", err)
	}
	return v, nil
}

// presenceGrace returns the chat's PresenceGrace of --presence-grace,
// where 0 is none (the chat's zero is its default).
func presenceGrace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// jwtLeeway is how far a token's times may be off parley's clock.
const jwtLeeway = 30 * time.Second

// close stops the chat's writer, after what it holds is stored, then
// leaves the cluster, then closes the store. It closes what newApp has
// opened so far, when that fails.
func (a *app) close() error {
	var errs []error
	if a.admin != nil {
		a.admin.Close()
	}
	if a.chat != nil {
		errs = append(errs, a.chat.Close())
	}
	if a.committer != nil {
		// After the chat, which submits to it until it is closed.
		errs = append(errs, a.committer.Close())
	}
	if a.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), clusterCloseTimeout)
		if err := a.node.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("leaving the cluster: %w", err))
		}
		cancel()
	}
	if a.redis != nil {
		if err := a.redis.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the Redis client: %w", err))
		}
	}
	return errors.Join(append(errs, a.store.Close())...)
}

// clusterBlockTime is how long one XREAD of the cluster's stream blocks.
const clusterBlockTime = time.Second

// clusterCloseTimeout bounds what leaving the cluster may take: sending
// what is queued for the other nodes.
const clusterCloseTimeout = 5 * time.Second

// openStore opens the message store named by dsn: a postgres:// URL,
// "memory", or the path of a SQLite file.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	s, err := open.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the message store: %w", err)
	}
	return s, nil
}
