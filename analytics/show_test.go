package analytics

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

func TestListAndShow(t *testing.T) {
	w := testWriter(t, Config{})
	b := realisticBatch(rand.New(rand.NewPCG(1, 2)), 10)
	path, err := w.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := PrintList(&out, w.cfg.Dir); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 2 || !strings.Contains(lines[1], path) || !strings.Contains(lines[1], "edge-1") {
		t.Fatalf("ls:\n%s", out.String())
	}
	out.Reset()
	if err := Show(&out, path, 3); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "rows 10") {
		t.Fatalf("show limit 3:\n%s", out.String())
	}
	// Rows are sorted by ip: 10.0.0.0 is the first; its numbers are shown.
	first := sortedRows(b.Rows)[0]
	want := fmt.Sprintf("%d", first.Counts[aggregate.In].Packets[hosts.Total])
	if !strings.Contains(lines[2], "10.0.0.0") || !strings.Contains(lines[2], want) {
		t.Fatalf("first row %q, want 10.0.0.0 with %s packets in", lines[2], want)
	}
}
