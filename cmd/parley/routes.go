package main

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/parley-chat/parley/internal/metrics"
	"github.com/parley-chat/parley/web"
)

// webFiles returns the page's files: embedded, or from disk with --dev.
func webFiles(cfg config) (fs.FS, error) {
	if !cfg.Dev {
		return web.Static(), nil
	}
	if _, err := os.Stat(cfg.DevDir); err != nil {
		return nil, fmt.Errorf("--dev: %w (run from the repository root or set --dev-dir)", err)
	}
	return os.DirFS(cfg.DevDir), nil
}

// contentSecurityPolicy keeps the page to its own scripts and server. Its
// connect-src 'self' covers WebSocket connections to the page's own host
// and port too (ws: for an http: page, wss: for an https: one; CSP Level
// 3, in Chromium, Firefox and Safari), and nothing else.
const contentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries: no MIME
// sniffing (a polling answer or an error holds text a client chose), no
// framing (frame-ancestors in the page's CSP says the same to browsers
// that read CSP; X-Frame-Options to those that do not), no referrer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// routes maps the server's paths: ready answers /readyz, and metrics,
// when set, /metrics.
func routes(sio http.Handler, files fs.FS, ready, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	mux.HandleFunc("GET /socket.io/socket.io.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, files, web.ClientScript)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	static := http.FileServerFS(files)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		static.ServeHTTP(w, r)
	})
	return mux
}

// metricsRoutes serves the metrics of m, on their own listener
// (--metrics-addr).
func metricsRoutes(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// debugRoutes serves the runtime profiles, on their own listener.
func debugRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
