package detect

import (
	"fmt"
	"net/netip"

	"github.com/gaissmai/bart"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// reconfig is a configuration reload waiting for the next tick.
type reconfig struct {
	th            *Thresholds
	keepPartition bool
	white         *bart.Lite
}

// Reconfigure replaces the thresholds and the whitelist from the next tick
// on, without waiting for it. keepPartition says th resolves every host to
// the same group index as the aggregator's hostgroup partition does; when
// false the detector looks each host's group up by prefix from then on.
// Attacks in progress keep going, under their group's new limits and
// action; a host now whitelisted is not mitigated again, and what is in
// force for it ends with its attack. Safe from any goroutine.
func (d *Detector) Reconfigure(th *Thresholds, keepPartition bool, whitelist []netip.Prefix) error {
	if th == nil {
		return fmt.Errorf("detect: Reconfigure: thresholds are required")
	}
	w := new(bart.Lite)
	for _, pfx := range whitelist {
		if !pfx.IsValid() {
			return fmt.Errorf("detect: whitelist prefix %s is not valid", pfx)
		}
		w.Insert(pfx.Masked())
	}
	d.cmdMu.Lock()
	d.pending = &reconfig{th: th, keepPartition: keepPartition, white: w}
	d.cmdMu.Unlock()
	return nil
}

// applyReconfig runs on the detector goroutine before a tick's visit, so
// visit reads th and part without a lock; other readers hold mu.
func (d *Detector) applyReconfig() {
	d.cmdMu.Lock()
	r := d.pending
	d.pending = nil
	d.cmdMu.Unlock()
	if r == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.th
	for tk, tr := range d.tracks {
		tr.group = r.th.regroup(old.GroupName(tr.group), tk.key)
	}
	d.th = r.th
	if !r.keepPartition {
		d.part = -1
	}
	d.white = r.white
	d.log.Info().Int("hostgroups", len(r.th.groups)).Bool("learned", r.th.learned != nil).
		Bool("partition_kept", r.keepPartition).Msg("thresholds reloaded")
}

// regroup is the index in t of the group named name, or key's group by
// prefix when t has no such group.
func (t *Thresholds) regroup(name string, key hosts.Key) int {
	for i := range t.groups {
		if t.groups[i].name == name {
			return i
		}
	}
	return t.GroupOf(key)
}

// HostLimits are key's hostgroup and effective limits per direction, as
// the detector applies them now. Safe from any goroutine.
func (d *Detector) HostLimits(key hosts.Key) (group string, lim [aggregate.NumDirs]Limits) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.th.GroupOf(key)
	for dir := range aggregate.NumDirs {
		lim[dir] = d.th.Limits(key, g, dir)
	}
	return d.th.GroupName(g), lim
}

// Watched appends to dst the hosts (with direction) the detector tracks
// now: under attack, or above a threshold and maybe about to be. Their
// traffic is no baseline. Safe from any goroutine.
func (d *Detector) Watched(dst []Watch) []Watch {
	d.mu.Lock()
	defer d.mu.Unlock()
	for tk := range d.tracks {
		dst = append(dst, Watch{Key: tk.key, Dir: tk.dir})
	}
	return dst
}

// Watch is a host and direction the detector tracks.
type Watch struct {
	Key hosts.Key
	Dir aggregate.Dir
}

// SamePartition reports whether t and o resolve every host to the same
// group index: the same groups in the same order with the same prefixes.
func (t *Thresholds) SamePartition(o *Thresholds) bool {
	if len(t.groups) != len(o.groups) || t.def != o.def {
		return false
	}
	for i := range t.groups {
		if t.groups[i].name != o.groups[i].name || !equalPrefixes(t.prefixes[i], o.prefixes[i]) {
			return false
		}
	}
	return true
}

func equalPrefixes(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Masked() != b[i].Masked() {
			return false
		}
	}
	return true
}
