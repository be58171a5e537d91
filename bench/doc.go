// Package bench is the benchmark harness: it runs Rampart against real
// traffic generators (dpdk-testpmd over memif, net_pcap replay, trafgen,
// hping3, tcpreplay) and reports each result as a ratio to a reference
// measured in the same run, regenerating BENCHMARKS.md.
package bench
