package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// The servers, by the names of their columns.
const (
	serverNode    = "node"
	serverZishang = "zishang"
	serverParley  = "parley"
)

// allServers is every server, in the table's order.
var allServers = []string{serverNode, serverZishang, serverParley}

// Parley's stores, for the history scenario.
const (
	storeSQLite = "sqlite"
	storeMemory = "memory"
)

// parleyDB is the name of parley's SQLite store in a run's directory.
const parleyDB = "parley.db"

// env is what the runner set up once: where things are, the binaries it
// built and what they can do.
type env struct {
	root    string // the parley module's directory
	tmp     string // binaries, and a directory per run
	parley  string // parley's binary, which is also the generator
	zishang string // the zishang server's binary
	node    string // the node executable
	nodeDir string // bench/compare/node

	memoryStore bool // parley takes --store memory
	slowReaders bool // parley bench takes --slow-readers

	portBase, portCount, nextPort int
	runs                          int
}

// moduleRoot returns the directory of the parley module that the working
// directory is in.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not in a Go module: run from the parley repository")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "bench", "compare", "zishang", "go.mod")); err != nil {
		return "", fmt.Errorf("%s is not the parley module: run from the parley repository", root)
	}
	return root, nil
}

// setup builds and installs what the selected servers need.
func setup(ctx context.Context, e *env, servers []string, log func(string, ...any)) error {
	if err := raiseNoFile(); err != nil {
		log("warning: cannot raise the open-files limit: %v", err)
	}
	// parley is always built: it is the generator too.
	log("building parley")
	e.parley = filepath.Join(e.tmp, "parley")
	if err := run(ctx, e.root, nil, "go", "build", "-buildvcs=auto", "-o", e.parley, "./cmd/parley"); err != nil {
		return err
	}
	help, _ := exec.CommandContext(ctx, e.parley, "bench", "--help").CombinedOutput()
	e.slowReaders = bytes.Contains(help, []byte("-slow-readers"))

	for _, s := range servers {
		switch s {
		case serverZishang:
			log("building the zishang server")
			e.zishang = filepath.Join(e.tmp, "zishang")
			dir := filepath.Join(e.root, "bench", "compare", "zishang")
			if err := run(ctx, dir, []string{"GOWORK=off"}, "go", "build", "-o", e.zishang, "."); err != nil {
				return err
			}
		case serverNode:
			node, err := exec.LookPath("node")
			if err != nil {
				return fmt.Errorf("the Node server needs node and npm: %w", err)
			}
			e.node = node
			e.nodeDir = filepath.Join(e.root, "bench", "compare", "node")
			if npmStale(e.nodeDir) {
				log("installing the Node server's packages (npm ci)")
				if err := run(ctx, e.nodeDir, nil, "npm", "ci", "--no-audit", "--no-fund"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// npmStale says whether dir's node_modules is missing or older than its
// lockfile, as the Makefile's js-deps does.
func npmStale(dir string) bool {
	lock, err1 := os.Stat(filepath.Join(dir, "package-lock.json"))
	installed, err2 := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	return err1 != nil || err2 != nil || lock.ModTime().After(installed.ModTime())
}

// run runs a setup command, with its output shown only if it fails.
func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// command returns the command that starts server (with store, for
// parley) on 127.0.0.1:port, working in dir. With history, node's server
// keeps that many messages of its own (parley's are in its store, which
// the runner fills: fillHistory).
func (e *env) command(server, store string, history, port int, dir string) *exec.Cmd {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var cmd *exec.Cmd
	switch server {
	case serverNode:
		cmd = exec.Command(e.node, filepath.Join(e.nodeDir, "server.js"))
		cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1")
		if history > 0 {
			cmd.Env = append(cmd.Env, "HISTORY="+strconv.Itoa(history), "HISTORY_SENT="+strconv.Itoa(historySent))
		}
	case serverZishang:
		cmd = exec.Command(e.zishang, "--addr", addr)
	case serverParley:
		dsn := filepath.Join(dir, parleyDB)
		if store == storeMemory {
			dsn = "memory"
		}
		cmd = exec.Command(e.parley, "--addr", addr, "--log-level", "error",
			"--store", dsn, "--shutdown-timeout", "3s")
	default:
		panic("compare: unknown server " + server)
	}
	cmd.Dir = dir
	return cmd
}

// probeMemoryStore says whether this parley has the in-memory store: one
// that lacks it takes --store memory for an SQLite file called memory.
func probeMemoryStore(ctx context.Context, e *env) (bool, error) {
	dir, err := os.MkdirTemp(e.tmp, "probe-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	port, err := e.port()
	if err != nil {
		return false, err
	}
	p, err := startProcess("parley", e.command(serverParley, storeMemory, 0, port, dir))
	if err != nil {
		return false, err
	}
	defer p.stop()
	if err := p.waitPort(ctx, fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return false, err
	}
	_, err = os.Stat(filepath.Join(dir, "memory"))
	return errors.Is(err, os.ErrNotExist), nil
}

// port returns a free port, a different one each time while it can.
func (e *env) port() (int, error) {
	p, err := freePort(e.portBase, e.portCount, e.nextPort)
	if err != nil {
		return 0, err
	}
	e.nextPort = p + 1
	return p, nil
}

// describeMachine returns lines saying what the benchmark ran on.
func describeMachine(ctx context.Context, e *env) []string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m, ok := cpuModel(b); ok {
			cpu = m
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kib, ok := memTotalKiB(b); ok {
			mem = fmt.Sprintf(", %.0f GiB memory", float64(kib)/(1<<20))
		}
	}
	kernel := runtime.GOOS
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	lines := []string{
		fmt.Sprintf("Machine: %s, %d cores%s; %s", cpu, runtime.NumCPU(), mem, kernel),
		fmt.Sprintf("Go: %s", goVersion(ctx)),
	}
	if e.node != "" {
		v, _ := exec.CommandContext(ctx, e.node, "--version").Output()
		lines = append(lines, fmt.Sprintf("Node: %s, npm socket.io %s", strings.TrimSpace(string(v)),
			packageVersion(filepath.Join(e.nodeDir, "node_modules", "socket.io", "package.json"))))
	}
	if e.zishang != "" {
		lines = append(lines, "zishang: github.com/zishang520/socket.io/servers/socket/v3 "+
			depVersion(e.zishang, "github.com/zishang520/socket.io/servers/socket/v3"))
	}
	lines = append(lines, "parley: "+revision(e.parley))
	return lines
}

// cpuModel reads the first "model name" of /proc/cpuinfo's text.
func cpuModel(cpuinfo []byte) (string, bool) {
	for line := range strings.SplitSeq(string(cpuinfo), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			if v = strings.TrimSpace(v); v != "" {
				return v, true
			}
		}
	}
	return "", false
}

// memTotalKiB reads MemTotal from /proc/meminfo's text
// ("MemTotal:       24683664 kB").
func memTotalKiB(meminfo []byte) (int64, bool) {
	for line := range strings.SplitSeq(string(meminfo), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		kib, err := strconv.ParseInt(f[0], 10, 64)
		return kib, err == nil && kib > 0
	}
	return 0, false
}

// goVersion is the version of the go command that built the servers.
func goVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// packageVersion reads the version from an npm package.json.
func packageVersion(path string) string {
	var p struct{ Version string }
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &p) != nil || p.Version == "" {
		return "(unknown version)"
	}
	return p.Version
}

// depVersion is the version of module mod in the binary at path.
func depVersion(path, mod string) string {
	bi, err := buildinfo.ReadFile(path)
	if err == nil {
		for _, d := range bi.Deps {
			if d.Path == mod {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// revision is the commit the binary at path was built from, as go build
// recorded it.
func revision(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown revision"
	}
	return describeRevision(bi.Settings)
}

// describeRevision says which commit the vcs settings of a build name:
// "commit 0123456789ab of 2026-01-02 with uncommitted changes".
func describeRevision(settings []debug.BuildSetting) string {
	var rev, modified string
	var when time.Time
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " with uncommitted changes"
			}
		case "vcs.time":
			when, _ = time.Parse(time.RFC3339, s.Value)
		}
	}
	if rev == "" {
		return "unknown revision"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := "commit " + rev
	if !when.IsZero() {
		s += " of " + when.UTC().Format("2006-01-02")
	}
	return s + modified
}
