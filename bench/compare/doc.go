// Command compare benchmarks parley side by side with two other servers
// of the Socket.IO chat tutorial: the reference Node server (node/, npm
// socket.io 4.8) and the tutorial written with github.com/zishang520/socket.io
// (zishang/, a Go module of its own, so that parley does not depend on it).
//
// It is a benchmark, not a test: run it by hand, on an otherwise quiet
// machine,
//
//	go run ./bench/compare [--quick] [--servers node,zishang,parley] [--scenarios ...] [--out FILE]
//
// It installs the Node server's packages with npm ci, builds parley and the
// zishang server into a temporary directory, and then, for every scenario
// and server, starts a fresh server process on 127.0.0.1, waits for its
// port, runs `parley bench --json --quiet --pid PID ...` against it, and
// stops it (SIGTERM, then SIGKILL). Progress goes to stderr; at the end one
// markdown table goes to stdout (and to --out): a row per metric and
// scenario, a column per server, and parley's ratio to each other server.
//
// The scenarios (see scenarios.go) are idle memory per client (on an
// empty store, and with a history that every client is sent), a fixed
// overload and a moderate load, a moderate load over HTTP long-polling
// (polling), the highest load held with p99 under
// 100 ms and no loss (the ceiling), parley's ceiling with its SQLite and
// in-memory stores (history), and the effect of clients that stop reading
// (slow).
//
// The generator runs on the same machine as the server it measures, so
// every figure is for the pair; the header of the output says what the
// machine was, and the table notes runs during which other programs kept
// the machine busy.
package main
