package sensor

import (
	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/detect"
	"github.com/rampartnet/rampart/sensor/sample"
)

// newDetection builds the detector over the sample store and the
// partitions the aggregator keeps for it (network, then hostgroup).
func newDetection(cfg Config, log zerolog.Logger, store *sample.Store, mit detect.Mitigator) (*detect.Detector, []aggregate.Partition, error) {
	th, err := detect.NewThresholds(cfg.Hostgroups, nil)
	if err != nil {
		return nil, nil, err
	}
	parts := []aggregate.Partition{networkPartition(cfg.Networks), th.Partition()}
	det, err := detect.New(cfg.Detection, detect.Deps{
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
		return nil, nil, err
	}
	return det, parts, nil
}
