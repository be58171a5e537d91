// Package thresholdfile is the learned-thresholds file: `rampart baseline
// tune` writes it, the sensor loads it at start and again on SIGHUP, on a
// change of the file, or on an API reload. Its entries replace configured
// limits key by key; a limit the file leaves out keeps the configured value.
package thresholdfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rampartnet/rampart/internal/validate"
	"github.com/rampartnet/rampart/sensor/hostgroup"
)

// Version is the only format version this build reads and writes.
const Version = 1

// MaxSize bounds what Load reads: a file for a million hosts is ~150 MB.
const MaxSize = 512 << 20

// File is the document. Hosts are keyed by IP address (an IPv6 host by its
// address in the sensor's IPv6 granularity, /128 or the /64's first address).
type File struct {
	Version     int                             `yaml:"version"`
	GeneratedAt time.Time                       `yaml:"generated_at"`
	Source      string                          `yaml:"source,omitempty"` // what it was learned from, for people
	Groups      map[string]hostgroup.Thresholds `yaml:"groups,omitempty"`
	Hosts       map[string]hostgroup.Thresholds `yaml:"hosts,omitempty"`

	addrs map[netip.Addr]hostgroup.Thresholds
}

// Parse decodes and validates a document. Unknown keys are errors; every
// problem is reported with its key path (validate.Errors).
func Parse(data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("thresholds file: empty document: want version, groups, hosts")
		}
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("thresholds file: line %d: more than one YAML document", extra.Line)
	}
	root := validate.New()
	f.validate(root)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	return &f, nil
}

func (f *File) validate(p validate.Path) {
	if f.Version != Version {
		p.Fieldf("version", "must be %d, got %d", Version, f.Version)
	}
	for _, name := range sortedKeys(f.Groups) {
		g := f.Groups[name]
		gp := p.At("groups").At(name)
		if name == "" {
			gp.Errorf("group name must not be empty")
		}
		g.In.Validate(gp.At("in"))
		g.Out.Validate(gp.At("out"))
	}
	f.addrs = make(map[netip.Addr]hostgroup.Thresholds, len(f.Hosts))
	for _, key := range sortedKeys(f.Hosts) {
		h := f.Hosts[key]
		hp := p.At("hosts").At(key)
		a, err := netip.ParseAddr(key)
		if err != nil || a.Zone() != "" {
			hp.Errorf("must be an IP address such as 192.0.2.7, got %q", key)
			continue
		}
		a = a.Unmap()
		if _, dup := f.addrs[a]; dup {
			hp.Errorf("duplicate of host %s", a)
		}
		h.In.Validate(hp.At("in"))
		h.Out.Validate(hp.At("out"))
		f.addrs[a] = h
	}
}

// Addrs are the host entries by address (IPv4 unmapped).
func (f *File) Addrs() map[netip.Addr]hostgroup.Thresholds { return f.addrs }

// Marshal renders the document with hosts and groups in sorted order, so
// that two tunes of the same history give the same bytes.
func (f *File) Marshal() ([]byte, error) {
	if f.Version == 0 {
		f.Version = Version
	}
	root := validate.New()
	f.validate(root)
	if err := root.Err(); err != nil {
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Learned thresholds for rampart (thresholds_file in the sensor config).\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil { // yaml.v3 sorts map keys
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	return buf.Bytes(), nil
}

// Load reads and parses path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("thresholds file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("thresholds file %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("thresholds file %s: larger than %d bytes", path, MaxSize)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
