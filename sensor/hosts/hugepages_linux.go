package hosts

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back a large table with transparent huge
// pages (honoured when THP is "madvise" or "always"): random lookups into
// megabytes of 4 KiB pages miss the TLB on nearly every packet, and a miss
// costs a page walk (two-dimensional under virtualization). Call it before
// the memory is first touched. Failure only costs speed.
func adviseHuge(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	if size < huge {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(p), size), syscall.MADV_HUGEPAGE)
}
