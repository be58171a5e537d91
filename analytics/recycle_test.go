package analytics

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestRecycler(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r := &recycler{mem: mem}
	small := r.Allocate(100) // to mem
	big := r.Allocate(3 << 20)
	if len(big) != 3<<20 || cap(big) != 4<<20 {
		t.Fatalf("big: len %d cap %d", len(big), cap(big))
	}
	copy(big, "hello")
	big = r.Reallocate(3<<20+10, big) // fits its bucket: same memory
	if !bytes.HasPrefix(big, []byte("hello")) || len(big) != 3<<20+10 {
		t.Fatal("reallocate within the bucket lost data")
	}
	grown := r.Reallocate(5<<20, big) // next bucket: copied
	if !bytes.HasPrefix(grown, []byte("hello")) || cap(grown) != 8<<20 {
		t.Fatalf("grown: cap %d", cap(grown))
	}
	if r.kept != 4<<20 {
		t.Fatalf("kept %d after the copy freed the old buffer, want %d", r.kept, 4<<20)
	}
	again := r.Allocate(4 << 20)
	if &again[0] != &big[0] || r.kept != 0 {
		t.Fatal("a freed buffer of the bucket was not reused")
	}
	r.Free(again)
	r.Free(grown)
	r.Free(small)
	mem.AssertSize(t, 0)
	for range 80 { // 1.25 GiB offered: at most recycleMax kept
		r.Free(make([]byte, 16<<20))
	}
	if r.kept > recycleMax {
		t.Fatalf("kept %d > %d", r.kept, recycleMax)
	}
	r.release()
	if r.kept != 0 {
		t.Fatal("release kept buffers")
	}
}
