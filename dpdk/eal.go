//go:build !nodpdk

package dpdk

/*
#cgo pkg-config: libdpdk
#include "shim.h"

// The log stream catches EAL's messages during init so that a failure can
// be explained in the returned error.
static FILE *rampart_log_begin(char **buf, size_t *len) {
	FILE *f = open_memstream(buf, len);
	if (f != NULL)
		rte_openlog_stream(f);
	return f;
}

static void rampart_log_end(FILE *f) {
	rte_openlog_stream(NULL);
	fclose(f);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

var eal struct {
	mu      sync.Mutex
	state   int // 0 never initialised, 1 running, 2 cleaned up
	prefix  string
	initLog string
}

// InitEAL initialises DPDK's EAL once for the process. A second call, even
// after CleanupEAL, fails: EAL cannot be restarted in one process.
func InitEAL(o EALOptions) error {
	args, err := o.Args()
	if err != nil {
		return err
	}
	eal.mu.Lock()
	defer eal.mu.Unlock()
	switch eal.state {
	case 1:
		return fmt.Errorf("dpdk: EAL already initialised in this process (file prefix %q); it initialises once per process", eal.prefix)
	case 2:
		return fmt.Errorf("dpdk: EAL was cleaned up in this process and cannot be initialised again")
	}
	if !o.NoHuge {
		if err := checkHugepages("/sys/kernel/mm/hugepages", "/proc/mounts"); err != nil {
			return err
		}
	}

	argv := append([]string{"rampart"}, args...)
	// EAL keeps pointers into argv (getopt permutes it, some options are
	// referenced later), so the C copy is never freed: once per process.
	cargv := (**C.char)(C.calloc(C.size_t(len(argv)+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	cargs := unsafe.Slice(cargv, len(argv)+1)
	for i, a := range argv {
		cargs[i] = C.CString(a)
	}

	// EAL pins the calling thread to the main lcore: do it on a locked
	// thread and give that thread its old affinity back afterwards, so the
	// Go scheduler's other goroutines are not confined to one core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mask, maskErr := getAffinity()

	var buf *C.char
	var size C.size_t
	logBuf := (**C.char)(C.malloc(C.size_t(unsafe.Sizeof(buf))))
	logLen := (*C.size_t)(C.malloc(C.size_t(unsafe.Sizeof(size))))
	defer C.free(unsafe.Pointer(logBuf))
	defer C.free(unsafe.Pointer(logLen))
	*logBuf, *logLen = nil, 0
	logf := C.rampart_log_begin(logBuf, logLen)

	ret := C.rte_eal_init(C.int(len(argv)), cargv)
	errno := syscall.Errno(C.rampart_errno())

	if logf != nil {
		C.rampart_log_end(logf)
		eal.initLog = C.GoStringN(*logBuf, C.int(*logLen))
		C.free(unsafe.Pointer(*logBuf))
	}
	if maskErr == nil {
		_ = setAffinity(mask)
	}
	if ret < 0 {
		return initError(args, errno, eal.initLog, o.FilePrefix)
	}
	eal.state, eal.prefix = 1, o.FilePrefix
	return nil
}

// InitLog is what EAL logged during InitEAL.
func InitLog() string {
	eal.mu.Lock()
	defer eal.mu.Unlock()
	return eal.initLog
}

// initError explains a failed rte_eal_init from rte_errno and EAL's log.
func initError(args []string, errno syscall.Errno, log, prefix string) error {
	cause := errno.Error()
	switch {
	case strings.Contains(log, "Is another primary process running"):
		cause = fmt.Sprintf("file prefix %q is in use by another DPDK process", prefix)
	case strings.Contains(log, "Cannot get hugepage information"):
		cause = "no usable hugepages (reserve and mount them, or use no_huge)"
	case strings.Contains(log, "Unable to parse device"):
		cause = "a device string names no known driver or bus"
	case errno == syscall.EALREADY:
		cause = "EAL already initialised in this process"
	case errno == syscall.EINVAL:
		cause = "invalid EAL arguments"
	}
	msg := fmt.Sprintf("dpdk: rte_eal_init %q failed: %s", strings.Join(args, " "), cause)
	if tail := lastLines(log, 4); tail != "" {
		msg += "; EAL said: " + tail
	}
	return fmt.Errorf("%s", msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " | ")
}

// CleanupEAL releases EAL's resources. Close every port first.
func CleanupEAL() error {
	eal.mu.Lock()
	defer eal.mu.Unlock()
	if eal.state != 1 {
		return fmt.Errorf("dpdk: EAL is not running")
	}
	eal.state = 2
	if ret := C.rte_eal_cleanup(); ret != 0 {
		return fmt.Errorf("dpdk: rte_eal_cleanup: %v", syscall.Errno(-ret))
	}
	return nil
}

func ealRunning() bool {
	eal.mu.Lock()
	defer eal.mu.Unlock()
	return eal.state == 1
}

// RegisterThread makes the calling OS thread an EAL lcore, which gives it
// a mempool cache (without one receive runs at half speed). Call it from a
// goroutine after runtime.LockOSThread and pinning; it returns the lcore id.
func RegisterThread() (int, error) {
	if !ealRunning() {
		return 0, fmt.Errorf("dpdk: register thread: EAL is not running")
	}
	if C.rte_thread_register() != 0 {
		return 0, fmt.Errorf("dpdk: rte_thread_register: %v (no free lcore id, or multi-process in use)", syscall.Errno(C.rampart_errno()))
	}
	return int(C.rte_lcore_id()), nil
}

// UnregisterThread gives the calling thread's lcore id back.
func UnregisterThread() { C.rte_thread_unregister() }

// ProbeDevice attaches a device after InitEAL (hotplug), e.g. a vdev
// string "net_null1" or an allowed PCI address; OpenPort can then open it.
func ProbeDevice(devargs string) error {
	if !ealRunning() {
		return fmt.Errorf("dpdk: probe %q: EAL is not running", devargs)
	}
	c := C.CString(devargs)
	defer C.free(unsafe.Pointer(c))
	if ret := C.rte_dev_probe(c); ret != 0 {
		return fmt.Errorf("dpdk: probe %q: %v", devargs, syscall.Errno(-ret))
	}
	return nil
}
