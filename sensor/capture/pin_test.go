package capture

import (
	"runtime"
	"slices"
	"testing"
)

func TestPinCurrentThread(t *testing.T) {
	cores, err := AllowedCores()
	if err != nil || len(cores) == 0 {
		t.Fatalf("AllowedCores() = %v, %v", cores, err)
	}
	last := cores[len(cores)-1]
	done := make(chan []int)
	go func() {
		runtime.LockOSThread()
		// The thread exits with the goroutine, so its narrowed mask dies too.
		if err := PinCurrentThread(last); err != nil {
			t.Error(err)
		}
		got, _ := AllowedCores()
		done <- got
	}()
	if got := <-done; !slices.Equal(got, []int{last}) {
		t.Errorf("after pinning to %d the thread may run on %v", last, got)
	}
	if after, _ := AllowedCores(); !slices.Equal(after, cores) && len(after) < len(cores) {
		t.Errorf("pinning a locked goroutine narrowed another thread to %v", after)
	}
}

func TestPinCurrentThreadBadCore(t *testing.T) {
	for _, core := range []int{-1, maxCPUs, 1023} {
		done := make(chan error)
		go func() {
			runtime.LockOSThread()
			done <- PinCurrentThread(core)
		}()
		if err := <-done; err == nil {
			t.Errorf("PinCurrentThread(%d) = nil, want an error", core)
		}
	}
}
