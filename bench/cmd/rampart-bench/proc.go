package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process the harness started: its output goes to a log file
// (and, for lines, to an optional channel), it runs in its own process
// group, and it is stopped by its id, never by name.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	mu   sync.Mutex
	out  strings.Builder
}

// start runs name args with stdout and stderr to logPath; lines, if not
// nil, also gets every output line (dropped when full).
func start(logPath string, lines chan<- string, name string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: exec.Command(name, args...), log: logPath, done: make(chan struct{})}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	runningMu.Lock()
	running[p] = true
	runningMu.Unlock()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(f, line)
			p.mu.Lock()
			if p.out.Len() < 1<<20 {
				p.out.WriteString(line + "\n")
			}
			p.mu.Unlock()
			if lines != nil {
				select {
				case lines <- line:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
		if lines != nil {
			close(lines)
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Output is what the process printed so far (its first MiB).
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits up to d for the process to exit on its own; false if it did not.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop sends sig to the process group, waits up to grace, then kills it.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
		if !p.wait(grace) {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	runningMu.Lock()
	delete(running, p)
	runningMu.Unlock()
}

// running are the processes not stopped yet, stopped when the harness
// is interrupted or a scenario fails.
var (
	runningMu sync.Mutex
	running   = map[*proc]bool{}
)

func stopAll() {
	runningMu.Lock()
	ps := make([]*proc, 0, len(running))
	for p := range running {
		ps = append(ps, p)
	}
	runningMu.Unlock()
	for _, p := range ps {
		p.stop(syscall.SIGINT, 2*time.Second)
	}
}
