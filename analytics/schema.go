package analytics

import (
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/rampartnet/rampart/sensor/aggregate"
	"github.com/rampartnet/rampart/sensor/hosts"
)

// SchemaVersion is written in every file; readers refuse other versions.
// Bump it on any change of columns or their meaning.
const SchemaVersion = 1

// File metadata keys.
const (
	metaVersion  = "rampart.schema_version"
	metaSensor   = "rampart.sensor_id"
	metaInterval = "rampart.interval_ns"
	metaStart    = "rampart.start_ns"
	metaEnd      = "rampart.end_ns"
	metaDropped  = "rampart.dropped" // snapshots the collector dropped before this one
)

// Column names are spelled here, not taken from the sensor's String
// methods, so that renaming a sensor constant cannot change the files.
var (
	dirNames    = [aggregate.NumDirs]string{"in", "out"}
	metricNames = [hosts.NumMetrics]string{"total", "tcp", "syn", "udp", "icmp", "frag"}
	seriesNames = [aggregate.NumSeries]string{"pps", "bps", "flows", "tcp_pps", "syn_pps", "udp_pps", "icmp_pps", "frag_pps"}
)

// Fixed leading columns; then, per direction, packets and bytes per metric
// and flows; then, per direction, the peak rate of each series.
const (
	colTimestamp = iota
	colIP
	colGroup
	colCounts
	countCols = int(aggregate.NumDirs) * (2*int(hosts.NumMetrics) + 1)
	colPeaks  = colCounts + countCols
	numCols   = colPeaks + int(aggregate.NumDirs)*int(aggregate.NumSeries)
)

var (
	timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	ipType        = &arrow.FixedSizeBinaryType{ByteWidth: 16}
	groupType     = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
)

// fields are the columns of schema version 1. Counts are int64 although
// never negative: Spark and others read unsigned 64-bit columns badly.
var fields = func() []arrow.Field {
	f := []arrow.Field{
		{Name: "timestamp", Type: timestampType},             // interval start
		{Name: "ip", Type: ipType},                           // IPv6, IPv4 mapped
		{Name: "hostgroup", Type: groupType, Nullable: true}, // null: in no hostgroup
	}
	for _, d := range dirNames {
		for _, m := range metricNames {
			f = append(f,
				arrow.Field{Name: d + "_" + m + "_packets", Type: arrow.PrimitiveTypes.Int64},
				arrow.Field{Name: d + "_" + m + "_bytes", Type: arrow.PrimitiveTypes.Int64})
		}
		f = append(f, arrow.Field{Name: d + "_flows", Type: arrow.PrimitiveTypes.Int64})
	}
	for _, d := range dirNames {
		for _, s := range seriesNames {
			f = append(f, arrow.Field{Name: d + "_" + s + "_peak", Type: arrow.PrimitiveTypes.Int64})
		}
	}
	if len(f) != numCols {
		panic(fmt.Sprintf("analytics: schema has %d columns, layout says %d", len(f), numCols))
	}
	return f
}()

// countCol is the column of packets (bytes=false) or bytes of metric m in
// direction d; flowsCol the flows of d.
func countCol(d aggregate.Dir, m hosts.Metric, bytes bool) int {
	c := colCounts + int(d)*(2*int(hosts.NumMetrics)+1) + 2*int(m)
	if bytes {
		c++
	}
	return c
}

func flowsCol(d aggregate.Dir) int {
	return colCounts + int(d)*(2*int(hosts.NumMetrics)+1) + 2*int(hosts.NumMetrics)
}

func peakCol(d aggregate.Dir, s aggregate.Series) int {
	return colPeaks + int(d)*int(aggregate.NumSeries) + int(s)
}

// Meta is what a snapshot file says about itself.
type Meta struct {
	Version  int
	SensorID string
	Interval time.Duration
	Start    time.Time // interval start (inclusive)
	End      time.Time // interval end (exclusive)
	Dropped  uint64    // snapshots dropped by the sensor before this one
}

func schemaFor(m Meta) *arrow.Schema {
	md := arrow.NewMetadata(
		[]string{metaVersion, metaSensor, metaInterval, metaStart, metaEnd, metaDropped},
		[]string{
			strconv.Itoa(m.Version), m.SensorID, strconv.FormatInt(int64(m.Interval), 10),
			strconv.FormatInt(m.Start.UnixNano(), 10), strconv.FormatInt(m.End.UnixNano(), 10),
			strconv.FormatUint(m.Dropped, 10),
		})
	return arrow.NewSchema(fields, &md)
}

// metaOf checks an IPC file's schema against version 1 and parses its
// metadata.
func metaOf(s *arrow.Schema) (Meta, error) { return metaOfFields(s, fields) }

// metaOfFields is metaOf for a file whose columns must be want.
func metaOfFields(s *arrow.Schema, want []arrow.Field) (Meta, error) {
	var m Meta
	md := s.Metadata()
	get := func(k string) (string, error) {
		i := md.FindKey(k)
		if i < 0 {
			return "", fmt.Errorf("metadata %s: missing", k)
		}
		return md.Values()[i], nil
	}
	v, err := get(metaVersion)
	if err != nil {
		return m, err
	}
	if m.Version, err = strconv.Atoi(v); err != nil || m.Version != SchemaVersion {
		return m, fmt.Errorf("metadata %s: must be %d, got %q", metaVersion, SchemaVersion, v)
	}
	if m.SensorID, err = get(metaSensor); err != nil {
		return m, err
	}
	ints := [3]int64{}
	for i, k := range []string{metaInterval, metaStart, metaEnd} {
		v, err := get(k)
		if err != nil {
			return m, err
		}
		if ints[i], err = strconv.ParseInt(v, 10, 64); err != nil {
			return m, fmt.Errorf("metadata %s: must be an integer, got %q", k, v)
		}
	}
	m.Interval, m.Start, m.End = time.Duration(ints[0]), time.Unix(0, ints[1]).UTC(), time.Unix(0, ints[2]).UTC()
	if v, err = get(metaDropped); err != nil {
		return m, err
	}
	if m.Dropped, err = strconv.ParseUint(v, 10, 64); err != nil {
		return m, fmt.Errorf("metadata %s: must be an unsigned integer, got %q", metaDropped, v)
	}
	if s.NumFields() != numCols {
		return m, fmt.Errorf("schema: must have %d columns, got %d", numCols, s.NumFields())
	}
	for i, f := range want {
		g := s.Field(i)
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, f.Type) {
			return m, fmt.Errorf("schema: column %d must be %s %s, got %s %s", i, f.Name, f.Type, g.Name, g.Type)
		}
	}
	return m, nil
}
