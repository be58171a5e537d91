//go:build !amd64

package aggregate

import "github.com/rampartnet/rampart/sensor/hosts"

const useAVX512 = false

func addBothAVX512(*[NumDirs]hosts.Counters, *hosts.Delta) { panic("unreachable") }
func setAVX512(*counts, *hosts.Delta)                      { panic("unreachable") }
func addAVX512(*counts, *hosts.Delta)                      { panic("unreachable") }
func subAVX512(*sums, *counts)                             { panic("unreachable") }
func addRaiseAVX512(*sums, *counts, *counts)               { panic("unreachable") }
