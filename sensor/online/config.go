// Package online learns thresholds while the sensor runs: once a second it
// feeds each host's per-second rates (hosts of hostgroups with
// thresholds_mode learned, metrics that group has thresholds for) into
// baseline models, and every Recompute it publishes per-host limits that
// the detector reads (detect.Learned). Seconds a host is tracked by the
// detector (attacked, or above a threshold) teach nothing.
package online

import (
	"github.com/rampartnet/rampart/baseline"
)

// Config bounds and paces online learning.
type Config struct {
	// Params resolves the learning parameters of a metric (hostgroup
	// threshold key: pps, mbps, ...) for a hostgroup; nil is
	// baseline.DefaultParams for all. Online, a sample is one second.
	Params func(group, metric string) baseline.Params
	baseline.OnlineConfig
}

// DefaultConfig is baseline.DefaultOnlineConfig with default parameters.
func DefaultConfig() Config {
	return Config{OnlineConfig: baseline.DefaultOnlineConfig()}
}
