//go:build !linux

package hosts

import "unsafe"

// adviseHuge is a no-op where transparent huge pages cannot be requested.
func adviseHuge(p unsafe.Pointer, size uintptr) {}
