package capture

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// KeepOffCores takes cores out of the affinity of every thread of the
// process, so that the Go runtime, the aggregator and EAL's control threads
// stay off the cores the workers poll on; call it before the workers pin
// themselves. Threads created later inherit the mask of their creator, and
// the Go runtime never creates threads from a locked (worker) thread. A
// thread whose mask would become empty keeps its own. Two passes catch
// threads started while the first ran.
func KeepOffCores(cores []int) error {
	if len(cores) == 0 {
		return nil
	}
	var off cpuSet
	for _, c := range cores {
		if c < 0 || c >= maxCPUs {
			return fmt.Errorf("keep off cores: core %d out of range [0, %d)", c, maxCPUs)
		}
		off[c/64] |= 1 << (c % 64)
	}
	for range 2 {
		tids, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("keep off cores: %w", err)
		}
		for _, t := range tids {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var set cpuSet
			if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); e != 0 {
				continue // the thread ended
			}
			var left cpuSet
			empty := true
			for i := range set {
				left[i] = set[i] &^ off[i]
				empty = empty && left[i] == 0
			}
			if empty || left == set {
				continue
			}
			if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(left), uintptr(unsafe.Pointer(&left))); e != 0 && e != syscall.ESRCH {
				return fmt.Errorf("keep off cores: thread %d: %w", tid, e)
			}
		}
	}
	return nil
}
