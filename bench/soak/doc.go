// Command soak runs parley for a long while under a load with churn, once
// as it is and once with a hostile client alongside, and checks that the
// hostile client changes nothing that matters: the server's resident
// memory stays bounded, nothing acknowledged is lost, and the healthy
// clients' p99 latency stays within twice that of the run without it.
//
// It is a soak test, not a unit test: it never runs in `make test` or CI.
// Run it by hand, on an otherwise quiet machine:
//
//	go run ./bench/soak [--duration 10m] [--clients 200] ...
//	make soak [SOAK_DURATION=1m]
//
// It builds parley into a temporary directory and starts it on a free
// loopback port, with a fresh SQLite store; prints the server's resident
// memory (VmRSS, from /proc) every 10 seconds; runs `parley bench --churn
// --ack --json` against it for the duration, then the same with
// --hostile; stops the server (SIGTERM, then SIGKILL); and prints the
// figures of both runs and a PASS or FAIL line for each criterion (see
// verdict.go). It exits with status 1 when one fails. Linux only: it
// reads /proc.
package main
