package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	for _, opts := range []Options{{}, {NoSync: true}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "state.json")
		if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, opts, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != "new" {
			t.Errorf("after Write: %q, want new", got)
		}
		// A failing writer leaves the old file and no temporary behind.
		boom := errors.New("disk full")
		err := Write(path, opts, func(w io.Writer) error { io.WriteString(w, "partial"); return boom })
		if !errors.Is(err, boom) {
			t.Errorf("Write error = %v, want %v", err, boom)
		}
		if got, _ := os.ReadFile(path); string(got) != "new" {
			t.Errorf("after a failed Write: %q, want the previous content", got)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("directory holds %d entries after a failed Write, want only the file", len(ents))
		}
	}
}

func TestWriteNoDirectory(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "missing", "f"), Options{}, func(io.Writer) error { return nil })
	if err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
}
