package analytics

import "unsafe"

// prefetchRow asks for a row's cache lines ahead of their use.
//
//go:noescape
func prefetchRow(p unsafe.Pointer)
