package sensor

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/hostgroup"
	"github.com/rampartnet/rampart/sensor/online"
	"github.com/rampartnet/rampart/sensor/sample"
	"github.com/rampartnet/rampart/sensor/thresholdfile"
)

// newDetection builds the detector over the sample store, the partitions
// the aggregator keeps for it (network, then hostgroup), the thresholds
// whose partition the aggregator caches, and the online learner (nil when
// no hostgroup learns), whose OnTick follows the detector's.
func newDetection(cfg Config, log zerolog.Logger, store *sample.Store, mit detect.Mitigator) (*detect.Detector, []aggregate.Partition, *detect.Thresholds, *online.Learner, error) {
	base, _, err := loadThresholds(log, cfg.Hostgroups, cfg.Detection.ThresholdsFile, cfg.Counters.IPv6PrefixLen, nil)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var det *detect.Detector
	lrn := online.New(log.With().Str("component", "learn").Logger(), cfg.Online, base, PartitionHostgroup,
		func(dst []detect.Watch) []detect.Watch { return det.Watched(dst) })
	th := base
	if lrn.Active() {
		// The same groups in the same order: indexes agree with base's.
		if th, _, err = loadThresholds(zerolog.Nop(), cfg.Hostgroups, cfg.Detection.ThresholdsFile, cfg.Counters.IPv6PrefixLen, lrn); err != nil {
			return nil, nil, nil, nil, err
		}
	} else {
		lrn = nil
	}
	parts := []aggregate.Partition{networkPartition(cfg.Networks), th.Partition()}
	det, err = detect.New(cfg.Detection, detect.Deps{
		Log:        log,
		Thresholds: th,
		Partition:  PartitionHostgroup + 1,
		Whitelist:  cfg.Whitelist,
		Tick:       cfg.Aggregate.Tick,
		PrefixLen6: cfg.Counters.IPv6PrefixLen,
		SampleRate: cfg.Capture.SampleRate,
		Samples:    store,
		Mitigator:  mit,
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return det, parts, th, lrn, nil
}

// FileStatus is what a load of the thresholds file found.
type FileStatus struct {
	Path          string   `json:"path,omitempty"`
	Loaded        bool     `json:"loaded"`
	Hosts         int      `json:"hosts"`
	Groups        int      `json:"groups"`
	UnknownGroups []string `json:"unknown_groups,omitempty"` // named in the file, not configured
	Missing       bool     `json:"missing,omitempty"`        // configured, not there yet
}

// loadThresholds compiles hostgroups with the thresholds file over them. A
// file not there yet is no error (the first `baseline tune` writes it, and
// the reload picks it up); one that does not parse is.
func loadThresholds(log zerolog.Logger, groups []hostgroup.Config, path string, prefixLen6 int, lrn *online.Learner) (*detect.Thresholds, FileStatus, error) {
	st := FileStatus{Path: path}
	var f *thresholdfile.File
	if path != "" {
		var err error
		f, err = thresholdfile.Load(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.Missing = true
			log.Warn().Str("path", path).Msg("thresholds file not found, using configured thresholds")
			f = nil
		case err != nil:
			return nil, st, fmt.Errorf("detection.thresholds_file: %w", err)
		default:
			st.Loaded, st.Hosts, st.Groups = true, len(f.Addrs()), len(f.Groups)
		}
	}
	var learned detect.Learned
	if lrn != nil {
		learned = lrn
	}
	th, unknown, err := detect.ThresholdsWithFile(groups, f, prefixLen6, learned)
	if err != nil {
		return nil, st, err
	}
	st.UnknownGroups = unknown
	if len(unknown) > 0 {
		log.Warn().Strs("groups", unknown).Str("path", path).Msg("thresholds file names hostgroups the configuration lacks, ignored")
	}
	if st.Loaded {
		log.Info().Str("path", path).Int("hosts", st.Hosts).Int("groups", st.Groups).Msg("thresholds file loaded")
	}
	return th, st, nil
}

// Reloadable is the part of the configuration a running sensor takes
// without a restart.
type Reloadable struct {
	Hostgroups     []hostgroup.Config
	Whitelist      []netip.Prefix
	ThresholdsFile string
}

// Reload applies r from the detector's next tick on. Nothing changes when
// it fails. Hostgroups whose prefixes changed are looked up by prefix from
// then on (snapshots and top keep the groups of the last start); online
// learning keeps the hostgroups, modes and fallback limits of the start.
func (s *Sensor) Reload(r Reloadable) (FileStatus, error) {
	if s.det == nil {
		return FileStatus{}, errors.New("sensor: reload before start")
	}
	th, st, err := loadThresholds(s.log, r.Hostgroups, r.ThresholdsFile, s.cfg.Counters.IPv6PrefixLen, s.online)
	if err != nil {
		return st, err
	}
	if err := s.det.Reconfigure(th, th.SamePartition(s.th), r.Whitelist); err != nil {
		return st, err
	}
	return st, nil
}
