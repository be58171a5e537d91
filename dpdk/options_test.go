package dpdk

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEALArgs(t *testing.T) {
	cases := []struct {
		name string
		o    EALOptions
		want []string
		err  string
	}{
		{"minimal no-huge", EALOptions{NoHuge: true, FilePrefix: "a"},
			[]string{"--file-prefix=a", "--proc-type=primary", "--no-huge", "--no-pci", "--no-telemetry"}, ""},
		{"hugepages, pci, vdev, extra", EALOptions{Lcores: "0@0,1@1", MemoryMB: 512, FilePrefix: "b",
			PCIAllow: []string{"0000:03:00.0"}, VDevs: []string{"net_null0"}, Telemetry: true, Extra: []string{"--log-level=8"}},
			[]string{"--file-prefix=b", "--proc-type=primary", "--lcores=0@0,1@1", "-m", "512", "--huge-unlink",
				"-a", "0000:03:00.0", "--vdev=net_null0", "--log-level=8"}, ""},
		{"no prefix", EALOptions{NoHuge: true}, nil, "file prefix is required"},
		{"slash in prefix", EALOptions{FilePrefix: "a/b"}, nil, `file prefix "a/b" must not contain`},
		{"negative memory", EALOptions{FilePrefix: "a", MemoryMB: -1}, nil, "memory must be >= 0 MB, got -1"},
	}
	for _, c := range cases {
		got, err := c.o.Args()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Args() = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestDeviceName(t *testing.T) {
	cases := map[string]string{
		"net_pcap0,rx_pcap=/tmp/x.pcap,infinite_rx=1": "net_pcap0",
		"net_null0":    "net_null0",
		"0000:03:00.0": "0000:03:00.0",
		"03:00.1":      "0000:03:00.1",
		"0000:af:1f.7": "0000:af:1f.7",
	}
	for in, want := range cases {
		if got := DeviceName(in); got != want {
			t.Errorf("DeviceName(%q) = %q, want %q", in, got, want)
		}
	}
	for s, want := range map[string]bool{"0000:03:00.0": true, "03:00.0": true, "3:00.0": false, "0000:03:00.8": false, "net_pcap0": false, "00:00:03:00.0": false} {
		if IsPCIAddress(s) != want {
			t.Errorf("IsPCIAddress(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestMempoolSizeFor(t *testing.T) {
	for _, c := range []struct{ q, d, b, cache, want int }{
		{1, 1024, 64, 256, 2047},  // 1088 + 768 = 1856
		{2, 1024, 64, 256, 4095},  // 2176 + 1152 = 3328
		{4, 4096, 64, 256, 32767}, // 16640 + 1920 = 18560
		{1, 1, 1, 0, 3},
	} {
		got := MempoolSizeFor(c.q, c.d, c.b, c.cache)
		if got != c.want || got < c.q*(c.d+c.b) {
			t.Errorf("MempoolSizeFor(%d,%d,%d,%d) = %d, want %d", c.q, c.d, c.b, c.cache, got, c.want)
		}
	}
}

func TestCheckHugepages(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "hugepages")
	write := func(name, s string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(name), 0o755)
		if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mounts := filepath.Join(dir, "mounts")
	write(mounts, "proc /proc proc rw 0 0\n")
	write(filepath.Join(sys, "hugepages-2048kB", "free_hugepages"), "0\n")
	if err := checkHugepages(sys, mounts); err == nil || !strings.Contains(err.Error(), "no free hugepages") {
		t.Errorf("no pages: %v", err)
	}
	write(filepath.Join(sys, "hugepages-1048576kB", "free_hugepages"), "2\n")
	if err := checkHugepages(sys, mounts); err == nil || !strings.Contains(err.Error(), "2 free hugepages but no hugetlbfs mount") {
		t.Errorf("no mount: %v", err)
	}
	write(mounts, "proc /proc proc rw 0 0\nnone /dev/hugepages hugetlbfs rw 0 0\n")
	if err := checkHugepages(sys, mounts); err != nil {
		t.Errorf("pages and mount: %v", err)
	}
}
