package capture

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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

const childEnv = "RAMPART_CAPTURE_TEST_CHILD"

// inChild runs the calling test alone in a fresh test process and reports
// whether this process is that child. KeepOffCores narrows every thread of
// the process, and a thread cloned while a test restores the masks keeps the
// narrowed one, so these tests must not share a process with the others.
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a child process: %v\n%s", t.Name(), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the child process did not run %s:\n%s", t.Name(), out)
	}
	return false
}

// Every thread of the process leaves the kept-off core, and threads the
// runtime starts afterwards do too.
func TestKeepOffCores(t *testing.T) {
	if !inChild(t) {
		return
	}
	cores, err := AllowedCores()
	if err != nil {
		t.Fatal(err)
	}
	if len(cores) < 2 {
		t.Fatalf("needs 2 allowed cores, have %v", cores)
	}
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
	if !inChild(t) {
		return
	}
	cores, err := AllowedCores()
	if err != nil || len(cores) < 2 {
		t.Fatalf("needs 2 allowed cores: %v %v", cores, err)
	}
	off := cores[len(cores)-1]
	if err := KeepOffCores([]int{off}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the pinned thread exits with the goroutine
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
