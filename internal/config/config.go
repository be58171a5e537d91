// Package config is the root of Rampart's configuration: one YAML file whose
// top-level sections each belong to one component, which owns their defaults
// and validation. Only cmd/ and this package see every section.
package config

import (
	"net/netip"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/baseline"
	"github.com/rampartnet/rampart/bgp"
	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/flow"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/online"
)

// Config is the whole file.
type Config struct {
	SensorID   string               `yaml:"sensor_id"`
	Networks   []netip.Prefix       `yaml:"networks"`  // monitored (own) networks: decide direction, bound mitigation
	Whitelist  []netip.Prefix       `yaml:"whitelist"` // never mitigated
	Hostgroups []hostgroup.Config   `yaml:"hostgroups"`
	Capture    sensor.CaptureConfig `yaml:"capture"`
	Counters   hosts.Config         `yaml:"counters"`
	Aggregate  aggregate.Config     `yaml:"aggregate"`
	Flow       flow.Config          `yaml:"flow"`
	Detection  detect.Config        `yaml:"detection"`
	BGP        bgp.Config           `yaml:"bgp"`
	API        api.Config           `yaml:"api"`
	Snapshots  analytics.Config     `yaml:"snapshots"`
	Baseline   baseline.Config      `yaml:"baseline"`
}

// Default is every default; an operator's file overrides what it names.
func Default() Config {
	return Config{
		SensorID:   "rampart",
		Hostgroups: []hostgroup.Config{hostgroup.Default()},
		Capture:    sensor.DefaultCaptureConfig(),
		Counters:   hosts.DefaultConfig(),
		Aggregate:  aggregate.DefaultConfig(),
		Flow:       flow.DefaultConfig(),
		Detection:  detect.DefaultConfig(),
		BGP:        bgp.DefaultConfig(),
		API:        api.DefaultConfig(),
		Snapshots:  analytics.DefaultConfig(),
		Baseline:   baseline.DefaultConfig(),
	}
}

// fillDefaults completes list elements, which YAML decodes from zero values.
func (c *Config) fillDefaults() {
	hasDefault := false
	for i := range c.Hostgroups {
		g := &c.Hostgroups[i]
		if g.Action == "" {
			g.Action = hostgroup.ActionFlowSpec
		}
		hasDefault = hasDefault || g.Name == hostgroup.DefaultName
	}
	if !hasDefault {
		c.Hostgroups = append(c.Hostgroups, hostgroup.Default())
	}
	c.BGP.FillDefaults()
}

// Validate reports every problem in the configuration at once.
func (c *Config) Validate(p validate.Path) {
	if c.SensorID == "" {
		p.Fieldf("sensor_id", "must not be empty")
	}
	if len(c.Networks) == 0 {
		p.Fieldf("networks", "must list at least one monitored prefix, got none")
	}
	for i, pfx := range c.Networks {
		hostgroup.ValidPrefix(p.At("networks").Index(i), pfx)
	}
	for i, pfx := range c.Whitelist {
		hostgroup.ValidPrefix(p.At("whitelist").Index(i), pfx)
	}
	hostgroup.ValidateAll(p.At("hostgroups"), c.Hostgroups)
	for i, g := range c.Hostgroups {
		gp := p.At("hostgroups").Index(i)
		if g.Name == hostgroup.DefaultName {
			if len(g.Prefixes) > 0 {
				gp.Fieldf("prefixes", "must be empty for the %q group (it holds every other host), got %d prefixes", hostgroup.DefaultName, len(g.Prefixes))
			}
			continue
		}
		if len(g.Prefixes) == 0 {
			gp.Fieldf("prefixes", "must list at least one prefix, got none")
		}
		for k, pfx := range g.Prefixes {
			if pfx.IsValid() && !c.monitored(pfx) {
				gp.At("prefixes").Index(k).Errorf("not inside any monitored network, got %s", pfx)
			}
		}
	}
	c.Capture.Validate(p.At("capture"))
	c.Counters.Validate(p.At("counters"))
	c.Aggregate.Validate(p.At("aggregate"))
	c.Flow.Validate(p.At("flow"))
	c.Detection.Validate(p.At("detection"))
	if c.Capture.Source == sensor.SourceNone && len(c.Flow.Listeners) == 0 {
		p.At("capture").Fieldf("source", "%q needs flow.listeners, got none", sensor.SourceNone)
	}
	c.BGP.Validate(p.At("bgp"))
	c.API.Validate(p.At("api"))
	c.Snapshots.Validate(p.At("snapshots"))
	c.Baseline.Validate(p.At("baseline"))
	names := make([]string, len(c.Hostgroups))
	for i, g := range c.Hostgroups {
		names[i] = g.Name
	}
	c.Baseline.GroupNames(p.At("baseline"), names)
}

// monitored reports whether pfx lies inside one of the monitored networks.
func (c *Config) monitored(pfx netip.Prefix) bool {
	for _, n := range c.Networks {
		if n.Bits() <= pfx.Bits() && n.Contains(pfx.Addr()) {
			return true
		}
	}
	return false
}

// Sensor is the hot path's share of the configuration.
func (c *Config) Sensor() sensor.Config {
	return sensor.Config{
		Capture:    c.Capture,
		Counters:   c.Counters,
		Aggregate:  c.Aggregate,
		Networks:   c.Networks,
		Hostgroups: c.Hostgroups,
		Flow:       c.Flow,
		Whitelist:  c.Whitelist,
		Detection:  c.Detection,
		Online:     online.Config{Params: c.Baseline.Params, OnlineConfig: c.Baseline.Online},
	}
}
