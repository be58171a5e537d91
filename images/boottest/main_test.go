package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeGuest answers the shell's command lines the way bash on a serial
// console does: it echoes the line (with CR LF and a bracketed-paste escape),
// then prints the markers around the canned output of the command.
func fakeGuest(t *testing.T, answers map[string]struct {
	out  string
	code int
}) (*vm, func()) {
	t.Helper()
	r, w := io.Pipe()
	v := &vm{stdin: w, exited: make(chan struct{}), grew: make(chan struct{})}
	line := regexp.MustCompile(`^echo '@@B'(\d+); \( (.*) \) 2>&1; echo '@@E'(\d+) \$\?$`)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			v.feed([]byte("\x1b[?2004l" + sc.Text() + "\r\n"))
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			a, ok := answers[m[2]]
			if !ok {
				a.out, a.code = "bash: "+m[2]+": command not found\r\n", 127
			}
			v.feed([]byte("@@B" + m[1] + "\r\n"))
			// Output arrives in pieces, as over a UART.
			for _, chunk := range strings.SplitAfter(a.out, "\n") {
				v.feed([]byte(chunk))
			}
			v.feed([]byte(fmt.Sprintf("@@E%s %d\r\n\x1b[?2004hroot@rampart-0123abcd:~# ", m[3], a.code)))
		}
	}()
	return v, func() { w.Close(); <-done }
}

func TestShellRun(t *testing.T) {
	answers := map[string]struct {
		out  string
		code int
	}{
		"hostname":                  {"rampart-0123abcd\r\n", 0},
		"systemctl is-active x":     {"\x1b[0;1;31mfailed\x1b[0m\r\n", 3},
		"cat log":                   {"@@E99 0\r\nline\r\n", 0},
		"printf 'a\\nb\\n'":         {"a\r\nb\r\n", 0},
		"rampart status --json | x": {`{"source":"dpdk","queues":[]}` + "\r\n", 0},
	}
	v, stop := fakeGuest(t, answers)
	defer stop()
	sh := &shell{vm: v}
	ctx := context.Background()
	for _, tc := range []struct {
		cmd, want string
		wantErr   bool
	}{
		{"hostname", "rampart-0123abcd", false},
		{"systemctl is-active x", "failed", true},
		{"printf 'a\\nb\\n'", "a\nb", false},
		{"rampart status --json | x", `{"source":"dpdk","queues":[]}`, false},
		{"nosuchcommand", "bash: nosuchcommand: command not found", true},
		{"cat log", "@@E99 0\nline", false},     // another command's end marker in the output
		{"hostname", "rampart-0123abcd", false}, // markers are numbered: no stale match
	} {
		out, err := sh.run(ctx, tc.cmd, 5*time.Second)
		if (err != nil) != tc.wantErr {
			t.Errorf("run(%q): error %v, want error %v", tc.cmd, err, tc.wantErr)
		}
		if out != tc.want {
			t.Errorf("run(%q) = %q, want %q", tc.cmd, out, tc.want)
		}
	}
}

func TestExpectTimesOut(t *testing.T) {
	v, stop := fakeGuest(t, nil)
	defer stop()
	v.feed([]byte("rampart-0123abcd login: "))
	if _, err := v.expect(context.Background(), `(?m)^\S+ login: `, time.Second); err != nil {
		t.Fatalf("login prompt not found: %v", err)
	}
	// The cursor moved past the prompt: the same pattern does not match twice.
	if _, err := v.expect(context.Background(), `(?m)^\S+ login: `, 200*time.Millisecond); err == nil {
		t.Fatal("matched the same prompt twice")
	}
}

// The banner arrives in pieces; the password is only taken whole.
func TestBannerPasswordInPieces(t *testing.T) {
	v, stop := fakeGuest(t, nil)
	defer stop()
	banner := "  Log in as root with the one-time password: pbqttwvkar2u6xyy\r\r\n  You must choose"
	for _, cut := range []int{48, 50, 60, 61, 62, 63} {
		v.feed([]byte(banner[:cut]))
		got := make(chan []string, 1)
		go func() {
			m, err := v.expect(context.Background(), bannerPassword, 5*time.Second)
			if err != nil {
				t.Error(err)
			}
			got <- m
		}()
		time.Sleep(20 * time.Millisecond) // expect has seen the first piece
		v.feed([]byte(banner[cut:]))
		if m := <-got; len(m) < 2 || m[1] != "pbqttwvkar2u6xyy" {
			t.Errorf("banner cut at %d: password %q, want the whole one", cut, m)
		}
	}
}

func TestExpectStopsWhenQemuExits(t *testing.T) {
	v, stop := fakeGuest(t, nil)
	defer stop()
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(v.exited)
	}()
	if _, err := v.expect(context.Background(), `never`, time.Minute); err == nil || !strings.Contains(err.Error(), "qemu exited") {
		t.Fatalf("expect after qemu exit: %v, want a qemu exited error", err)
	}
}

// TestFirstLoginRetries plays login and passwd: the first password line is
// lost (as when login's TCSAFLUSH throws it away), the second attempt goes
// through the forced change.
func TestFirstLoginRetries(t *testing.T) {
	defer func(p time.Duration) { loginPause = p }(loginPause)
	loginPause = 10 * time.Millisecond
	r, w := io.Pipe()
	v := &vm{stdin: w, exited: make(chan struct{}), grew: make(chan struct{})}
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		passwords := 0
		for sc.Scan() {
			l := sc.Text()
			lines = append(lines, l)
			switch {
			case l == "root":
				v.feed([]byte("root\r\nPassword: "))
			case passwords == 0:
				passwords++
				v.feed([]byte("\r\nLogin incorrect\r\nrampart-0123abcd login: "))
			case passwords == 1:
				passwords++
				v.feed([]byte("\r\nYou are required to change your password immediately (administrator enforced).\r\nChanging password for root.\r\nCurrent password: "))
			case passwords == 2:
				passwords++
				v.feed([]byte("\r\nNew password: "))
			case passwords == 3:
				passwords++
				v.feed([]byte("\r\nRetype new password: "))
			default:
				v.feed([]byte("\r\nLinux rampart-0123abcd 6.1.0\r\nroot@rampart-0123abcd:~# "))
			}
		}
	}()
	v.feed([]byte("rampart-0123abcd login: "))
	if _, err := v.expect(context.Background(), `(?m)^\S+ login: `, time.Second); err != nil {
		t.Fatal(err)
	}
	newPassword, err := login(context.Background(), v, "onetime")
	w.Close()
	<-done
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	want := []string{"root", "onetime", "root", "onetime", "onetime", newPassword, newPassword}
	if strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Fatalf("typed %q, want %q", lines, want)
	}
	if newPassword == "onetime" || len(newPassword) < 16 {
		t.Fatalf("new password %q", newPassword)
	}
}
