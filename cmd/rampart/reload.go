package main

import (
	"context"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/bgp"
	"github.com/rampartnet/rampart/internal/config"
	"github.com/rampartnet/rampart/sensor"
)

// filePoll is how often the thresholds file is checked for a change.
const filePoll = time.Second

// reloader applies the reloadable part of the configuration file to the
// running sensor: on SIGHUP, on POST /api/v1/config/reload, and when the
// thresholds file changes. Hostgroups, the whitelist and the thresholds file
// apply from the detector's next tick; a change to any other section is
// reported as needing a restart and not applied.
type reloader struct {
	log  zerolog.Logger
	path string
	sn   *sensor.Sensor
	sp   *bgp.Speaker // nil without BGP

	mu      sync.Mutex // one reload at a time; running, stats, seen
	running *config.Config
	seen    fileStamp // of the thresholds file at the last load
	stats   api.ReloadStats

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newReloader(log zerolog.Logger, path string, cfg *config.Config, sn *sensor.Sensor, sp *bgp.Speaker) *reloader {
	return &reloader{log: log, path: path, running: cfg, sn: sn, sp: sp, seen: stampOf(cfg.Detection.ThresholdsFile)}
}

// Start listens for SIGHUP and watches the thresholds file.
func (r *reloader) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer signal.Stop(hup)
		tick := time.NewTicker(filePoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				r.reloadLogged("sighup")
			case <-tick.C:
				if r.fileChanged() {
					r.reloadLogged("file")
				}
			}
		}
	}()
	return nil
}

// Stop ends the watch.
func (r *reloader) Stop() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

func (r *reloader) reloadLogged(trigger string) {
	res, err := r.Reload(trigger)
	if err != nil {
		r.log.Error().Err(err).Str("trigger", trigger).Msg("configuration reload failed, running configuration kept")
		return
	}
	r.log.Info().Str("trigger", trigger).Strs("applied", res.Applied).Strs("restart_required", res.RestartRequired).
		Msg("configuration reloaded")
}

// Reload loads the configuration file and applies what a running sensor can
// take. Nothing changes when the file (or the thresholds file) is invalid.
func (r *reloader) Reload(trigger string) (api.ReloadResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := r.reload(trigger)
	if err != nil && trigger == "file" {
		// Wait for the next change rather than retry a bad file every poll.
		r.seen = stampOf(r.running.Detection.ThresholdsFile)
	}
	r.stats.LastTrigger = trigger
	if err != nil {
		r.stats.Failed++
		r.stats.LastError = err.Error()
		return res, err
	}
	r.stats.OK++
	r.stats.LastOK = time.Now().UTC()
	r.stats.LastError = ""
	return res, nil
}

func (r *reloader) reload(trigger string) (api.ReloadResult, error) {
	res := api.ReloadResult{Trigger: trigger, Applied: []string{}}
	cfg, err := config.Load(r.path)
	if err != nil {
		return res, err
	}
	stamp := stampOf(cfg.Detection.ThresholdsFile)
	st, err := r.sn.Reload(sensor.Reloadable{Hostgroups: cfg.Hostgroups, Whitelist: cfg.Whitelist,
		ThresholdsFile: cfg.Detection.ThresholdsFile})
	if err != nil {
		return res, err
	}
	if r.sp != nil {
		r.sp.SetWhitelist(cfg.Whitelist)
	}
	res.Applied, res.RestartRequired = diffSections(r.running, cfg)
	if cfg.Detection.ThresholdsFile != "" {
		res.ThresholdsFile = &api.ThresholdsFileState{Path: st.Path, Loaded: st.Loaded, Missing: st.Missing,
			Hosts: st.Hosts, Groups: st.Groups, UnknownGroups: st.UnknownGroups}
	}
	// What is running now: the new reloadable settings, the old rest.
	next := *r.running
	next.Hostgroups, next.Whitelist = cfg.Hostgroups, cfg.Whitelist
	next.Detection.ThresholdsFile = cfg.Detection.ThresholdsFile
	r.running, r.seen = &next, stamp
	return res, nil
}

// Stats are the reload counters, for status and metrics.
func (r *reloader) Stats() api.ReloadStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// diffSections compares the running configuration with a new one by
// top-level key: applied are the reloadable settings (always re-applied),
// restart the other keys that changed.
func diffSections(old, cur *config.Config) (applied, restart []string) {
	applied = []string{"hostgroups", "whitelist"}
	if cur.Detection.ThresholdsFile != "" || old.Detection.ThresholdsFile != "" {
		applied = append(applied, "detection.thresholds_file")
	}
	ov, cv := reflect.ValueOf(*old), reflect.ValueOf(*cur)
	t := ov.Type()
	for i := range t.NumField() {
		key := yamlKey(t.Field(i))
		switch key {
		case "", "hostgroups", "whitelist":
			continue
		case "detection":
			od, cd := old.Detection, cur.Detection
			od.ThresholdsFile, cd.ThresholdsFile = "", ""
			if !reflect.DeepEqual(od, cd) {
				restart = append(restart, key)
			}
			continue
		}
		if !reflect.DeepEqual(ov.Field(i).Interface(), cv.Field(i).Interface()) {
			restart = append(restart, key)
		}
	}
	return applied, restart
}

func yamlKey(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	for i := range len(tag) {
		if tag[i] == ',' {
			tag = tag[:i]
			break
		}
	}
	if tag == "-" {
		return ""
	}
	return tag
}

// fileStamp tells whether a file changed: a new file (inode), a new
// modification time or size. The zero stamp is "not there".
type fileStamp struct {
	ino   uint64
	mtime time.Time
	size  int64
}

func stampOf(path string) fileStamp {
	if path == "" {
		return fileStamp{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	s := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}

// fileChanged: the thresholds file in force differs from the one loaded.
func (r *reloader) fileChanged() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	path := r.running.Detection.ThresholdsFile
	return path != "" && stampOf(path) != r.seen
}

var _ api.Reloader = (*reloader)(nil)
