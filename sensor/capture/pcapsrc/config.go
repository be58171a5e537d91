// Package pcapsrc is a capture.Source that replays pcap and pcapng files on
// one queue, with the packets' own timestamps, as fast as the worker polls.
package pcapsrc

import "github.com/rampartnet/rampart/internal/validate"

// Config lists the files to replay.
type Config struct {
	// Files are read in this order, as one stream (not merged by time).
	Files []string `yaml:"files"`
	// Loops is how many passes to make over Files; 0 repeats forever. Each
	// pass is shifted in time to start after the previous one ends.
	Loops int `yaml:"loops"`
}

// DefaultConfig reads the files once.
func DefaultConfig() Config { return Config{Loops: 1} }

// Validate reports every bad value under p.
func (c *Config) Validate(p validate.Path) {
	if len(c.Files) == 0 {
		p.Fieldf("files", "must list at least one pcap or pcapng file, got none")
	}
	for i, f := range c.Files {
		if f == "" {
			p.At("files").Index(i).Errorf("must be a file path, got %q", f)
		}
	}
	if c.Loops < 0 {
		p.Fieldf("loops", "must be >= 0 (0 repeats forever), got %d", c.Loops)
	}
}
