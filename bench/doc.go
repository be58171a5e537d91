// Package bench is the benchmark harness: bench/cmd/rampart-bench runs
// Rampart against real traffic generators (dpdk-testpmd over memif,
// net_pcap replay, tcpreplay on a veth pair, softflowd and pmacctd exports,
// a real BIRD peer), each result as a ratio to a reference measured in the
// same run, and regenerates BENCHMARKS.md from bench/results/*.json through
// bench/harness. bench/capture holds rxbench, the receive-and-free loop
// measured against testpmd rxonly.
package bench
