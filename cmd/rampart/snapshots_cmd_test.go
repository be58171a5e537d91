package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/rampartnet/rampart/analytics"
	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
	"github.com/rampartnet/rampart/sensor/snapshot"
)

// TestSnapshotsCompactCLI: compact (dry run, then for real), ls and show
// of a Parquet file, on snapshots written with fixed contents; paths are
// shown relative to the directory.
func TestSnapshotsCompactCLI(t *testing.T) {
	dir := t.TempDir()
	w, err := analytics.New(zerolog.Nop(), analytics.Config{Dir: dir, Interval: 10 * time.Minute, WriteConcurrency: 1}, "edge-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 14, 14, 40, 0, 0, time.UTC)
	for i := range 5 {
		b := &snapshot.Batch{Start: start.Add(time.Duration(i) * 10 * time.Minute).UnixNano(), Groups: []string{"web"}}
		b.End = b.Start + int64(10*time.Minute)
		for h := range 3 {
			var r snapshot.Row
			r.Key[10], r.Key[11], r.Key[12], r.Key[15] = 0xff, 0xff, 198, byte(10+h)
			r.Group = int32(h%2) - 1
			r.Counts[aggregate.In].Packets[hosts.Total] = uint64(1000 * (i + 1) * (h + 1))
			r.Counts[aggregate.In].Bytes[hosts.Total] = uint64(64000 * (i + 1) * (h + 1))
			b.Rows = append(b.Rows, r)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Stop()
	old := time.Now().Add(-time.Hour)
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	rel := func(s string) string { return strings.ReplaceAll(s, dir, "DIR") }
	var got strings.Builder
	for _, args := range [][]string{
		{"snapshots", "compact", "--dir", dir, "--dry-run"},
		{"snapshots", "compact", "--dir", dir},
		{"snapshots", "ls", "--dir", dir},
		{"snapshots", "compact", "--dir", dir, "--delete-source"},
		{"snapshots", "ls", "--dir", dir},
		{"snapshots", "show", "--limit", "4", filepath.Join(dir, "dt=2026-03-14", "hour=15", "edge-1-20260314T150000Z.parquet")},
		{"snapshots", "compact", "--dir", dir, "--older-than", "-1h"},
	} {
		stdout, stderr, code := run(t, args...)
		got.WriteString("$ rampart " + rel(strings.Join(args, " ")) + "\n" + rel(stdout))
		if code != 0 {
			got.WriteString("exit " + strconv.Itoa(code) + ": " + rel(stderr))
		}
	}
	golden(t, "snapshots_compact", got.String())
}
