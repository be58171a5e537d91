package capture

import (
	"fmt"
	"syscall"
	"unsafe"
)

// cpuSet is a Linux cpu_set_t for up to 1024 CPUs.
type cpuSet [16]uint64

const maxCPUs = len(cpuSet{}) * 64

// PinCurrentThread binds the calling OS thread to one core. Call it after
// runtime.LockOSThread, or the goroutine may move to an unpinned thread
// (and the pinned thread may serve other goroutines).
func PinCurrentThread(core int) error {
	if core < 0 || core >= maxCPUs {
		return fmt.Errorf("pin thread: core %d out of range [0, %d)", core, maxCPUs)
	}
	var set cpuSet
	set[core/64] |= 1 << (core % 64)
	// pid 0 is the calling thread.
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set)))
	if e != 0 {
		return fmt.Errorf("pin thread to core %d: %w (is it in the process's CPU affinity mask?)", core, e)
	}
	return nil
}

// AllowedCores lists the cores in the calling thread's affinity mask, in
// ascending order: the cores a worker may be pinned to.
func AllowedCores() ([]int, error) {
	var set cpuSet
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set)))
	if e != 0 {
		return nil, fmt.Errorf("read CPU affinity: %w", e)
	}
	var cores []int
	for c := 0; c < maxCPUs; c++ {
		if set[c/64]&(1<<(c%64)) != 0 {
			cores = append(cores, c)
		}
	}
	return cores, nil
}
