// Command cluster measures parley on two nodes of a cluster on this
// machine, in one run, and prints the figures as markdown:
//
//   - latency at 40,000 deliveries/s (401 clients, 10 senders × 10
//     msg/s, each message to the 400 others) on one node without Redis,
//     on a cluster of two with every client on the first node, and with
//     the senders on the first node and every other client on the second,
//     whose deliveries cross from node to node: the latency the hop adds
//     is the last run's cross-node figures over the others';
//   - the Redis commands each chat message costs, from the deltas of
//     INFO commandstats over the measured window of the last run, less
//     what the cluster sends with the same clients connected and nothing
//     said (an idle run), by command;
//   - the ceiling of the two nodes: the senders on the first node are
//     added to, step by step, until a step loses a delivery, drops a
//     client, falls behind or has its p99 above the bound; the highest
//     step held is the ceiling.
//
// It is a benchmark, not a test: it never runs in `make test` or CI. Run
// it by hand from the repository, on an otherwise quiet machine:
//
//	go run ./bench/cluster [--quick] [--out FILE]
//	make bench-cluster
//
// It starts its own redis-server (from PATH) on a free loopback port, with
// nothing saved, so that the command counts are the cluster's alone; it
// needs PostgreSQL, by default at PARLEY_TEST_POSTGRES or
// postgres://postgres@127.0.0.1:5432/test, in which each run gets a schema
// of its own, dropped at its end. It builds parley into a temporary
// directory and, for each run, starts fresh nodes on free loopback ports
// (with Redis flushed), so that no run sees what another left. The load
// generator is parley bench's, in this process: every send and arrival
// time is read from one clock, whatever node each client is on. Each run
// reports the CPU time of the nodes, of redis-server and of the generator
// over its window, and how busy the whole machine was: the generator
// shares the machine with what it measures. Linux only: it reads /proc.
package main
