// Package sensor assembles the hot path: a capture source, one worker per
// receive queue (decode, count, sample), and the aggregator that merges the
// workers' ticks into per-host rates. The same pipeline runs live (Sensor)
// and on packet time over files (Replay).
package sensor

import (
	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/capture/demosrc"
	"github.com/rampartnet/rampart/sensor/capture/dpdksrc"
	"github.com/rampartnet/rampart/sensor/capture/pcapsrc"
)

// Capture sources.
const (
	SourceDemo = "demo" // synthetic traffic generated in memory
	SourcePcap = "pcap" // pcap/pcapng files, on packet time
	SourceDPDK = "dpdk" // DPDK ports (PCI or virtual devices)
	SourceNone = "none" // no packet capture: flow telemetry only
)

// CaptureConfig is the `capture` section.
type CaptureConfig struct {
	Source string `yaml:"source"`
	// Burst is how many frames a worker asks for per receive call (the
	// DPDK source has its own, `dpdk.burst`).
	Burst int `yaml:"burst"`
	// SampleRate keeps 1 in N packet headers for attack fingerprints; 0 is off.
	SampleRate uint32 `yaml:"sample_rate"`
	// SamplesPerTick bounds a worker's samples per tick (memory and copy cost).
	SamplesPerTick int `yaml:"samples_per_tick"`
	// SampleStore is how many recent samples the detector can look back on.
	SampleStore int `yaml:"sample_store"`
	// Cores pins the workers of non-DPDK sources, one per queue; empty leaves
	// them to the scheduler.
	Cores []int `yaml:"cores"`

	Demo demosrc.Config `yaml:"demo"`
	Pcap pcapsrc.Config `yaml:"pcap"`
	DPDK dpdksrc.Config `yaml:"dpdk"`
}

// DefaultCaptureConfig runs the demo, so that a sensor with no capture
// section shows something rather than failing.
func DefaultCaptureConfig() CaptureConfig {
	return CaptureConfig{
		Source:         SourceDemo,
		Burst:          64,
		SampleRate:     64,
		SamplesPerTick: 4096,
		SampleStore:    1 << 18,
		Demo:           demosrc.DefaultConfig(),
		Pcap:           pcapsrc.DefaultConfig(),
		DPDK:           dpdksrc.DefaultConfig(),
	}
}

// Validate checks the section; only the chosen source's subsection counts.
func (c *CaptureConfig) Validate(p validate.Path) {
	validate.OneOf(p, "source", c.Source, SourceDemo, SourcePcap, SourceDPDK, SourceNone)
	validate.Range(p, "burst", c.Burst, 1, 1024)
	validate.Range(p, "sample_rate", c.SampleRate, 0, 1<<20)
	validate.Range(p, "samples_per_tick", c.SamplesPerTick, 1, 1<<20)
	validate.Range(p, "sample_store", c.SampleStore, 1, 1<<24)
	for i, core := range c.Cores {
		if core < 0 {
			p.At("cores").Index(i).Errorf("must be a CPU number >= 0, got %d", core)
		}
	}
	switch c.Source {
	case SourceDemo:
		c.Demo.Validate(p.At("demo"))
	case SourcePcap:
		c.Pcap.Validate(p.At("pcap"))
	case SourceDPDK:
		c.DPDK.Validate(p.At("dpdk"))
	}
}
