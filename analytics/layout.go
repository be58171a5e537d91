package analytics

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Files live in Hive-style partitions: DIR/dt=YYYY-MM-DD/hour=HH/, named
// <sensor>-<start>.arrow with start as YYYYMMDDTHHMMSSZ (UTC). Files being
// written have a name starting with "." and ending in ".tmp", which every
// reader (ours, DuckDB, Spark) skips.
const (
	arrowExt   = ".arrow"
	parquetExt = ".parquet"
	tmpExt     = ".tmp"
	stampFmt   = "20060102T150405Z"
)

var sensorIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidSensorID reports whether id can name snapshot files.
func ValidSensorID(id string) error {
	if !sensorIDPattern.MatchString(id) {
		return fmt.Errorf("sensor id: must be 1-64 of [A-Za-z0-9._-] starting with a letter or digit, got %q", id)
	}
	return nil
}

// hourDir is the partition directory of time t.
func hourDir(dir string, t time.Time) string {
	t = t.UTC()
	return filepath.Join(dir, "dt="+t.Format("2006-01-02"), fmt.Sprintf("hour=%02d", t.Hour()))
}

// fileName is the name of the file of sensor id starting at t, with ext.
func fileName(id string, t time.Time, ext string) string {
	return id + "-" + t.UTC().Format(stampFmt) + ext
}

// parseName splits a snapshot or compacted file name into sensor and start.
func parseName(name string) (sensor string, start time.Time, ext string, ok bool) {
	ext = filepath.Ext(name)
	if ext != arrowExt && ext != parquetExt || strings.HasPrefix(name, ".") {
		return "", time.Time{}, "", false
	}
	base := strings.TrimSuffix(name, ext)
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return "", time.Time{}, "", false
	}
	t, err := time.Parse(stampFmt, base[i+1:])
	if err != nil {
		return "", time.Time{}, "", false
	}
	return base[:i], t, ext, true
}
