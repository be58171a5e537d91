package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampartnet/rampart/sensor/packet"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

// TestSensorWritesSnapshots: the sensor, run over a 5 s trace on packet
// time with 1 s snapshots, leaves Arrow files that `snapshots ls` lists and
// `snapshots show` reads back with the host's counts.
func TestSensorWritesSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.pcap")
	if err := packettest.WritePcap(trace, packettest.Generate(t0, 2,
		packettest.Flow{Frame: packettest.Frame{Src: remote, Dst: web1, Proto: packet.ProtoUDP, SrcPort: 53, DstPort: 999, Payload: 100}, PPS: 1000, End: 5 * time.Second},
	)); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, "snapshots")
	cfg := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sensor_id: snap-e2e
api: { enabled: false } # 8179 may be a running demo
networks: [198.51.100.0/24]
capture: { source: pcap, pcap: { files: ["%s"] } }
snapshots: { enabled: true, dir: "%s", interval: 1s }
`, trace, snaps)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "sensor", "--config", cfg, "--log-format", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("sensor: %v\n%s", err, out)
	}
	ls, err := exec.Command(bin, "snapshots", "ls", "--dir", snaps).CombinedOutput()
	if err != nil {
		t.Fatalf("snapshots ls: %v\n%s", err, ls)
	}
	lines := strings.Split(strings.TrimSpace(string(ls)), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "START") {
		t.Fatalf("snapshots ls lists %d lines, want a header and at least 2 files:\n%s", len(lines), ls)
	}
	nfiles := len(lines) - 1
	first := strings.Fields(lines[1])
	path := first[len(first)-1]
	if !strings.Contains(path, "/dt=2026-12-01/hour=12/snap-e2e-") || !strings.HasSuffix(path, ".arrow") {
		t.Errorf("snapshot path %q is not in the Hive layout", path)
	}
	show, err := exec.Command(bin, "snapshots", "show", path).CombinedOutput()
	if err != nil {
		t.Fatalf("snapshots show: %v\n%s", err, show)
	}
	// One second of 1000 pps at 142 bytes a frame, in the host's row.
	var row []string
	for _, l := range strings.Split(string(show), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[0] == web1.String() {
			row = f
		}
	}
	if !strings.Contains(string(show), "sensor snap-e2e  interval 1s") || row == nil || row[2] != "1000" || row[3] != "142000" {
		t.Errorf("snapshots show, want %s with 1000 packets and 142000 bytes in:\n%s", web1, show)
	}

	// The hour (on packet time) is long over; the files are made older
	// than their interval, as they would be by the time anyone compacts.
	old := time.Now().Add(-time.Minute)
	if err := filepath.WalkDir(snaps, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	compact, err := exec.Command(bin, "snapshots", "compact", "--dir", snaps, "--delete-source").CombinedOutput()
	if err != nil {
		t.Fatalf("snapshots compact: %v\n%s", err, compact)
	}
	if !strings.Contains(string(compact), "2026-12-01T12Z  snap-e2e  written") {
		t.Errorf("snapshots compact:\n%s", compact)
	}
	ls, err = exec.Command(bin, "snapshots", "ls", "--dir", snaps).CombinedOutput()
	lines = strings.Split(strings.TrimSpace(string(ls)), "\n")
	if err != nil || len(lines) != 2 || !strings.Contains(lines[1], "parquet") {
		t.Fatalf("snapshots ls after compact --delete-source, want one Parquet file: %v\n%s", err, ls)
	}
	first = strings.Fields(lines[1])
	show, err = exec.Command(bin, "snapshots", "show", "--limit", "0", first[len(first)-1]).CombinedOutput()
	if err != nil {
		t.Fatalf("snapshots show: %v\n%s", err, show)
	}
	rows := 0
	for _, l := range strings.Split(string(show), "\n") {
		if f := strings.Fields(l); len(f) > 5 && f[1] == web1.String() && f[3] == "1000" && f[4] == "142000" {
			rows++
		}
	}
	// Every file is one interval; the host had its full second in each
	// but perhaps the last.
	if !strings.Contains(string(show), fmt.Sprintf("intervals %d ", nfiles)) || rows < nfiles-1 {
		t.Errorf("snapshots show of the Parquet file: %d full seconds of %s, want %d intervals and at least %d:\n%s", rows, web1, nfiles, nfiles-1, show)
	}
}
