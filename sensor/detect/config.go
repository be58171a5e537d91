package detect

import (
	"net/url"
	"path/filepath"
	"time"

	"github.com/rampartnet/rampart/internal/validate"
)

// Config is the `detection` section.
type Config struct {
	// TriggerTicks is how many consecutive ticks a host's per-tick rate must
	// stay above a threshold before it counts as attacked. 2 at 100 ms ticks
	// detects a flood of 3x threshold within 234 ms wherever it starts in a
	// tick, and ignores a single 100 ms burst.
	TriggerTicks int `yaml:"trigger_ticks"`
	// HoldTime: an attack ends once every rate stayed at or below its
	// threshold this long (and MinBanTime has passed).
	HoldTime time.Duration `yaml:"hold_time"`
	// MinBanTime is the least time a mitigation stays after detection or
	// after a re-trigger.
	MinBanTime time.Duration `yaml:"min_ban_time"`
	// MaxBanTime ends a mitigation this long after detection even while the
	// attack goes on (it is then detected again as a new attack); 0 is off.
	MaxBanTime time.Duration `yaml:"max_ban_time"`
	// UnbanGrace: after a manual unban the host is not detected again for this long.
	UnbanGrace time.Duration `yaml:"unban_grace"`
	// RuleCoverage is the share of attack samples a FlowSpec rule must match;
	// below it the detector falls back to a blackhole.
	RuleCoverage float64 `yaml:"rule_coverage"`
	// MinSamples is the fewest samples a fingerprint or a rule is built from.
	MinSamples int `yaml:"min_samples"`
	// FingerprintLookback bounds how far back samples are read at trigger time.
	FingerprintLookback time.Duration `yaml:"fingerprint_lookback"`
	// BenignMaxFlows: traffic that only crosses volume thresholds (pps, bps,
	// tcp_pps) and whose samples are established TCP in at most this many
	// flows is a transfer (download, speed test), not an attack. 0 is off.
	BenignMaxFlows int `yaml:"benign_max_flows"`
	// MaxVectors bounds the vectors (each its own FlowSpec rule) of one
	// attack; a vector past it blackholes the host instead.
	MaxVectors int `yaml:"max_vectors"`
	// History is how many ended attacks Attacks() keeps.
	History int `yaml:"history"`
	// AttackLog is a JSON-lines file with one record per attack at its end
	// ("" is off); with AttackLogStart also one at its start.
	AttackLog      string `yaml:"attack_log"`
	AttackLogStart bool   `yaml:"attack_log_start"`
	// PcapDir receives <attack id>.pcap with the fingerprint's samples ("" is off).
	PcapDir string `yaml:"pcap_dir"`
	// ThresholdsFile holds learned thresholds (`rampart baseline tune`)
	// over the hostgroups' ("" is off); reloaded on SIGHUP and on change.
	ThresholdsFile string `yaml:"thresholds_file"`

	Webhook WebhookConfig `yaml:"webhook"`
	Exec    ExecConfig    `yaml:"exec"`
}

// WebhookConfig: a JSON POST on attack start and end.
type WebhookConfig struct {
	URL     string        `yaml:"url"` // "" is off
	Timeout time.Duration `yaml:"timeout"`
	Retries int           `yaml:"retries"` // after the first attempt
	Backoff time.Duration `yaml:"backoff"` // before the first retry, doubling
	Queue   int           `yaml:"queue"`   // events waiting; more are dropped
}

// ExecConfig: a program run on attack start and end with its Args, then
// the event ("start" or "end"), the IP and the attack type; the attack's
// JSON on stdin.
type ExecConfig struct {
	Path        string        `yaml:"path"` // "" is off
	Args        []string      `yaml:"args"`
	Timeout     time.Duration `yaml:"timeout"`
	Concurrency int           `yaml:"concurrency"`
	Queue       int           `yaml:"queue"`
}

// DefaultConfig: see each field.
func DefaultConfig() Config {
	return Config{
		TriggerTicks:        2,
		HoldTime:            30 * time.Second,
		MinBanTime:          5 * time.Minute,
		UnbanGrace:          10 * time.Minute,
		RuleCoverage:        0.95,
		MinSamples:          10,
		FingerprintLookback: 2 * time.Second,
		BenignMaxFlows:      8,
		MaxVectors:          8,
		History:             1000,
		Webhook:             WebhookConfig{Timeout: 5 * time.Second, Retries: 3, Backoff: time.Second, Queue: 1024},
		Exec:                ExecConfig{Timeout: 30 * time.Second, Concurrency: 4, Queue: 1024},
	}
}

// Validate reports every bad value below p.
func (c *Config) Validate(p validate.Path) {
	validate.Range(p, "trigger_ticks", c.TriggerTicks, 1, 100)
	durationIn(p, "hold_time", c.HoldTime, 0, 24*time.Hour)
	durationIn(p, "min_ban_time", c.MinBanTime, 0, 30*24*time.Hour)
	if c.MaxBanTime != 0 && c.MaxBanTime < c.MinBanTime {
		p.Fieldf("max_ban_time", "must be 0 (off) or at least min_ban_time (%v), got %v", c.MinBanTime, c.MaxBanTime)
	}
	durationIn(p, "unban_grace", c.UnbanGrace, 0, 30*24*time.Hour)
	if !(c.RuleCoverage >= 0.5 && c.RuleCoverage <= 1) { // also catches NaN
		p.Fieldf("rule_coverage", "must be between 0.5 and 1, got %v", c.RuleCoverage)
	}
	validate.Range(p, "min_samples", c.MinSamples, 1, 1<<20)
	durationIn(p, "fingerprint_lookback", c.FingerprintLookback, time.Millisecond, time.Minute)
	validate.Range(p, "benign_max_flows", c.BenignMaxFlows, 0, 1024)
	validate.Range(p, "max_vectors", c.MaxVectors, 1, 64)
	validate.Range(p, "history", c.History, 1, 1<<20)
	if c.AttackLog != "" && !filepath.IsAbs(c.AttackLog) {
		p.Fieldf("attack_log", "must be an absolute path or empty, got %q", c.AttackLog)
	}
	if c.PcapDir != "" && !filepath.IsAbs(c.PcapDir) {
		p.Fieldf("pcap_dir", "must be an absolute path or empty, got %q", c.PcapDir)
	}
	if c.ThresholdsFile != "" && !filepath.IsAbs(c.ThresholdsFile) {
		p.Fieldf("thresholds_file", "must be an absolute path or empty, got %q", c.ThresholdsFile)
	}
	c.Webhook.validate(p.At("webhook"))
	c.Exec.validate(p.At("exec"))
}

func (c *WebhookConfig) validate(p validate.Path) {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Fieldf("url", "must be an http:// or https:// URL or empty, got %q", c.URL)
		}
	}
	durationIn(p, "timeout", c.Timeout, time.Millisecond, 5*time.Minute)
	validate.Range(p, "retries", c.Retries, 0, 10)
	durationIn(p, "backoff", c.Backoff, 0, 5*time.Minute)
	validate.Range(p, "queue", c.Queue, 1, 1<<20)
}

func (c *ExecConfig) validate(p validate.Path) {
	if c.Path != "" && !filepath.IsAbs(c.Path) {
		p.Fieldf("path", "must be an absolute path or empty, got %q", c.Path)
	}
	durationIn(p, "timeout", c.Timeout, time.Millisecond, time.Hour)
	validate.Range(p, "concurrency", c.Concurrency, 1, 64)
	validate.Range(p, "queue", c.Queue, 1, 1<<20)
}

func durationIn(p validate.Path, key string, v, lo, hi time.Duration) {
	if v < lo || v > hi {
		p.Fieldf(key, "must be between %v and %v, got %v", lo, hi, v)
	}
}
