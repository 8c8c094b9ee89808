package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
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
}

// parseConfig reads flags, with PARLEY_* environment variables as their
// defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var (
		cfg      config
		origins  string
		logLevel string
	)
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envInt := func(name string, def int) int {
		if n, err := strconv.Atoi(getenv(name)); err == nil {
			return n
		}
		return def
	}
	envBool := func(name string) bool {
		b, _ := strconv.ParseBool(getenv(name))
		return b
	}
	fs.StringVar(&cfg.Addr, "addr", env("PARLEY_ADDR", ":3000"), "address to listen on (PARLEY_ADDR)")
	fs.StringVar(&origins, "origins", env("PARLEY_ORIGINS", ""), "comma-separated origins allowed to connect from other sites, * for any; default same-origin only (PARLEY_ORIGINS)")
	fs.StringVar(&logLevel, "log-level", env("PARLEY_LOG_LEVEL", "info"), "log level: debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.BoolVar(&cfg.Dev, "dev", envBool("PARLEY_DEV"), "serve the page's files from disk, so that edits show on reload (PARLEY_DEV)")
	fs.StringVar(&cfg.DevDir, "dev-dir", env("PARLEY_DEV_DIR", "web/static"), "directory of the page's files with --dev (PARLEY_DEV_DIR)")
	fs.IntVar(&cfg.MaxNameLength, "max-name", envInt("PARLEY_MAX_NAME", 32), "longest name, in characters (PARLEY_MAX_NAME)")
	fs.IntVar(&cfg.MaxMessageLength, "max-message", envInt("PARLEY_MAX_MESSAGE", 2000), "longest message, in characters (PARLEY_MAX_MESSAGE)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown may take")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return config{}, fmt.Errorf("--log-level: %w", err)
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
