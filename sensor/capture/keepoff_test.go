package capture

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"unsafe"
)

func threadMask(t *testing.T, tid int) cpuSet {
	t.Helper()
	var set cpuSet
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); e != 0 {
		t.Fatalf("getaffinity %d: %v", tid, e)
	}
	return set
}

// Every thread of the process leaves the kept-off core, and threads the
// runtime starts afterwards do too.
func TestKeepOffCores(t *testing.T) {
	cores, err := AllowedCores()
	if err != nil {
		t.Fatal(err)
	}
	if len(cores) < 2 {
		t.Fatalf("needs 2 allowed cores, have %v", cores)
	}
	var all cpuSet
	for _, c := range cores {
		all[c/64] |= 1 << (c % 64)
	}
	t.Cleanup(func() { // give every thread its full mask back for the other tests
		tids, _ := os.ReadDir("/proc/self/task")
		for _, d := range tids {
			tid, _ := strconv.Atoi(d.Name())
			syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(all), uintptr(unsafe.Pointer(&all)))
		}
	})
	off := cores[len(cores)-1]
	if err := KeepOffCores([]int{off}); err != nil {
		t.Fatal(err)
	}
	// New threads: goroutines locked to threads while others block.
	done := make(chan struct{})
	for range 8 {
		go func() { runtime.LockOSThread(); <-done }()
	}
	runtime.Gosched()
	close(done)
	tids, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range tids {
		tid, _ := strconv.Atoi(d.Name())
		var set cpuSet
		if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); e != 0 {
			continue // ended meanwhile
		}
		if set[off/64]&(1<<(off%64)) != 0 {
			t.Errorf("thread %d still may run on core %d: mask %x", tid, off, set[0])
		}
	}
	if err := KeepOffCores([]int{-1}); err == nil {
		t.Error("core -1 accepted")
	}
}

// A worker pinned after KeepOffCores runs on the kept-off core alone.
func TestPinAfterKeepOff(t *testing.T) {
	cores, err := AllowedCores()
	if err != nil || len(cores) < 2 {
		t.Fatalf("needs 2 allowed cores: %v %v", cores, err)
	}
	off := cores[len(cores)-1]
	var all cpuSet
	for _, c := range cores {
		all[c/64] |= 1 << (c % 64)
	}
	t.Cleanup(func() {
		tids, _ := os.ReadDir("/proc/self/task")
		for _, d := range tids {
			tid, _ := strconv.Atoi(d.Name())
			syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(all), uintptr(unsafe.Pointer(&all)))
		}
	})
	if err := KeepOffCores([]int{off}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := PinCurrentThread(off); err != nil {
			errc <- err
			return
		}
		set := threadMask(t, 0)
		var want cpuSet
		want[off/64] = 1 << (off % 64)
		if set != want {
			t.Errorf("pinned worker mask %x, want only core %d", set[0], off)
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
