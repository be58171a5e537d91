// Package atomicfile writes files that readers see whole or not at all: the
// content goes to a temporary file in the same directory, which is synced
// and renamed over the target, and the directory is synced so the rename
// survives a power loss. A crash leaves the old file or the new one.
package atomicfile

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// Options tune Write.
type Options struct {
	// NoSync skips the fsyncs: still atomic for readers, not durable over a
	// power loss (tests, benchmarks).
	NoSync bool
}

// Write makes path hold what write writes, atomically. On any error the
// temporary file is removed and path is left as it was.
func Write(path string, opts Options, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// A leading dot keeps the temporary out of directory listings and globs.
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && !opts.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if !opts.NoSync {
		syncDir(dir)
	}
	return nil
}

// syncDir makes a rename durable. A failure risks only losing the new file
// on power loss, never a partial one, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
