// Package baseline is the math of normal: per-host models of the per-second
// peaks (mergeable quantile sketches, updated online and fitted offline from
// snapshots), threshold derivation and what-if evaluation. No I/O; time is
// injected, so the same history always gives the same thresholds.
package baseline
