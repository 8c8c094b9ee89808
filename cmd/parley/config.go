package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
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
	Store            string
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
	{"PARLEY_STORE", "store"},
}

// parseConfig reads flags, with PARLEY_* environment variables as their
// defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var (
		cfg     config
		origins string
	)
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", ":3000", "address to listen on (PARLEY_ADDR)")
	fs.StringVar(&origins, "origins", "", "comma-separated origins allowed to connect from other sites, * for any; default same-origin only (PARLEY_ORIGINS)")
	fs.TextVar(&cfg.LogLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.BoolVar(&cfg.Dev, "dev", false, "serve the page's files from disk, so that edits show on reload (PARLEY_DEV)")
	fs.StringVar(&cfg.DevDir, "dev-dir", "web/static", "directory of the page's files with --dev (PARLEY_DEV_DIR)")
	fs.IntVar(&cfg.MaxNameLength, "max-name", 32, "longest name, in characters (PARLEY_MAX_NAME)")
	fs.IntVar(&cfg.MaxMessageLength, "max-message", 2000, "longest message, in characters (PARLEY_MAX_MESSAGE)")
	fs.StringVar(&cfg.Store, "store", "parley.db", "message history: a SQLite file path, a postgres:// URL, or memory for development (lost on exit) (PARLEY_STORE)")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", "", "address for /debug/pprof/, off when empty; keep it on loopback (PARLEY_DEBUG_ADDR)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
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
	for _, o := range strings.Split(origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.Origins = append(cfg.Origins, o)
		}
	}
	if cfg.MaxNameLength < 1 || cfg.MaxMessageLength < 1 {
		return config{}, fmt.Errorf("--max-name and --max-message must be positive")
	}
	return cfg, nil
}
