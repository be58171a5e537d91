// Command boottest boots the appliance image in qemu (TCG, -cpu max) and
// checks it the way an operator would on the serial console: the first-boot
// one-time root password, the forced password change, configuring the
// capture port by PCI address, `systemctl restart rampart`; then it sends
// frames into the guest's virtio NIC from the host and checks through
// `rampart status --json` that the running service counted them, that a
// crashed sensor is restarted, and that the machine powers off.
//
// The guest NIC is a qemu `-netdev socket,udp=...`: every UDP datagram sent
// to its local address arrives on the guest NIC as one Ethernet frame.
// qemu runs in its own process group and is killed by PID on any failure,
// on SIGINT/SIGTERM and at the overall deadline.
//
// Usage: go run ./images/boottest -image bin/appliance/rampart.qcow2
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rampartnet/rampart/api"
	"github.com/rampartnet/rampart/sensor/packet/packettest"
)

type options struct {
	image, work, report   string
	firmware              string
	reboot                bool
	frames, rate          int
	minFraction           float64
	timeout               time.Duration
	memoryMB, cpus, diskG int
}

func main() {
	var o options
	flag.StringVar(&o.image, "image", "bin/appliance/rampart.qcow2", "disk image to boot (qcow2 or raw); never modified: the guest writes to an overlay")
	flag.StringVar(&o.work, "work", ".cache/image-test", "scratch directory: overlay disk, serial log")
	flag.StringVar(&o.firmware, "firmware", "bios", "bios (SeaBIOS: extlinux) or uefi (OVMF: systemd-boot)")
	flag.BoolVar(&o.reboot, "reboot", true, "boot the configured machine a second time and check the sensor starts by itself")
	flag.StringVar(&o.report, "report", "", "file to write the timings to (default WORK/report.txt)")
	flag.IntVar(&o.frames, "frames", 3000, "frames to send into the guest NIC")
	flag.IntVar(&o.rate, "rate", 1000, "frames per second")
	flag.Float64Var(&o.minFraction, "min-fraction", 1.0, "share of the frames the sensor must count")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "bound on the whole test")
	flag.IntVar(&o.memoryMB, "memory", 2048, "guest memory in MiB (the image reserves 1 GiB of hugepages)")
	flag.IntVar(&o.cpus, "smp", 2, "guest CPUs (the sensor needs main_core 0 and one worker core)")
	flag.IntVar(&o.diskG, "disk-gib", 4, "virtual size of the overlay disk; the first boot grows the root file system to it")
	flag.Parse()
	if o.firmware != "bios" && o.firmware != "uefi" {
		fmt.Fprintf(os.Stderr, "image-test: -firmware must be bios or uefi, got %q\n", o.firmware)
		os.Exit(2)
	}
	if o.report == "" {
		o.report = filepath.Join(o.work, "report.txt")
	}
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "image-test: FAIL: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("image-test: PASS")
}

func logf(format string, args ...any) {
	fmt.Printf("image-test: %s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	image, err := filepath.Abs(o.image)
	if err != nil {
		return err
	}
	format := "raw"
	if strings.HasSuffix(image, ".qcow2") {
		format = "qcow2"
	}
	overlay := filepath.Join(o.work, "overlay.qcow2")
	_ = os.Remove(overlay)
	if out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2", "-F", format, "-b", image,
		overlay, fmt.Sprintf("%dG", o.diskG)).CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img create: %v: %s", err, out)
	}

	// Our end of the guest NIC: qemu sends the guest's frames to recv and
	// reads frames from its own address, nicAddr.
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer recv.Close()
	nicAddr, err := freeUDPPort()
	if err != nil {
		return err
	}
	go drain(recv)

	h := &harness{o: o, overlay: overlay, guestTx: recv.LocalAddr().(*net.UDPAddr), nicAddr: nicAddr, recv: recv}
	defer h.killAll()
	go func() {
		<-ctx.Done()
		h.killAll()
	}()

	r := report{firmware: o.firmware}
	if err := checkGuest(ctx, h, &r); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v; see %s)", err, context.Cause(ctx), h.lastLog())
		} else {
			err = fmt.Errorf("%w (see %s)", err, h.lastLog())
		}
		return err
	}
	fmt.Print(r.String())
	return os.WriteFile(o.report, []byte(r.String()), 0o644)
}

// harness boots the overlay disk, possibly more than once, and kills every
// qemu it started.
type harness struct {
	o                options
	overlay          string
	guestTx, nicAddr *net.UDPAddr
	recv             *net.UDPConn

	mu   sync.Mutex
	vms  []*vm
	logs []string
}

func (h *harness) boot() (*vm, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	serialLog := filepath.Join(h.o.work, fmt.Sprintf("serial-%d.log", len(h.vms)+1))
	v, err := startVM(h.o, h.overlay, h.guestTx, h.nicAddr, serialLog)
	if err != nil {
		return nil, err
	}
	h.vms = append(h.vms, v)
	h.logs = append(h.logs, serialLog)
	logf("qemu pid %d booting %s with %s firmware (serial log %s)", v.cmd.Process.Pid, h.o.image, h.o.firmware, serialLog)
	return v, nil
}

func (h *harness) killAll() {
	h.mu.Lock()
	vms := append([]*vm(nil), h.vms...)
	h.mu.Unlock()
	for _, v := range vms {
		v.kill()
	}
}

func (h *harness) lastLog() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.logs) == 0 {
		return "no serial log"
	}
	return h.logs[len(h.logs)-1]
}

type report struct {
	firmware                         string
	login, active, restart, poweroff time.Duration
	rebootActive, bootToStart        time.Duration
	sent, counted, queueMissed       uint64
	rootSize                         string
}

func (r report) String() string {
	second := "not run (-reboot=false)"
	if r.rebootActive > 0 {
		second = fmt.Sprintf("%.0f s (guest: unit started %.1f s after kernel start)", r.rebootActive.Seconds(), r.bootToStart.Seconds())
	}
	return fmt.Sprintf("firmware: %s\nfirst boot, qemu start to login prompt: %.0f s\nconfig written to rampart active and counting: %.0f s\n"+
		"killed sensor back to active: %.0f s\nsecond boot, qemu start to rampart counting: %s\n"+
		"poweroff: %.0f s\nframes sent %d, counted %d, queue missed %d\nroot file system after first boot: %s\n",
		r.firmware, r.login.Seconds(), r.active.Seconds(), r.restart.Seconds(), second,
		r.poweroff.Seconds(), r.sent, r.counted, r.queueMissed, r.rootSize)
}

func freeUDPPort() (*net.UDPAddr, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	a := c.LocalAddr().(*net.UDPAddr)
	return a, c.Close()
}

// drain reads whatever the guest transmits so that qemu never blocks on it.
func drain(c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			return
		}
	}
}

func checkGuest(ctx context.Context, h *harness, r *report) error {
	o, recv, nicAddr := h.o, h.recv, h.nicAddr
	start := time.Now()
	vm, err := h.boot()
	if err != nil {
		return err
	}
	m, err := vm.expect(ctx, bannerPassword, 10*time.Minute)
	if err != nil {
		return fmt.Errorf("no first-boot password banner: %w", err)
	}
	password := m[1]
	if _, err := vm.expect(ctx, `(?m)^\S+ login: `, 5*time.Minute); err != nil {
		return fmt.Errorf("no login prompt: %w", err)
	}
	r.login = time.Since(start)
	logf("login prompt after %.0f s", r.login.Seconds())

	newPassword, err := login(ctx, vm, password)
	if err != nil {
		return err
	}
	sh := &shell{vm: vm}
	sh.quiet()

	// The first boot's work.
	checks := []struct{ cmd, want string }{
		{"cat /etc/machine-id", `^[0-9a-f]{32}$`},
		{"grep '^sensor_id:' /etc/rampart/rampart.yaml", `^sensor_id: rampart-[0-9a-f]{8}$`},
		{"hostname", `^rampart-[0-9a-f]{8}$`},
		{"ls /etc/ssh/ssh_host_ed25519_key.pub", `ssh_host_ed25519_key\.pub`},
		{"stat -c '%a %s' /etc/rampart/api.token", `^600 [1-9][0-9]+$`},
		{"chage -l root | grep '^Last password change'", `: [A-Z][a-z]{2} \d`},
		{"grep -o 'hugepages=[0-9]*' /proc/cmdline", `^hugepages=\d+$`},
		{"grep HugePages_Total /proc/meminfo", `HugePages_Total:\s+[1-9]`},
		{"systemctl is-enabled rampart", `^enabled$`},
		{"test -d /sys/firmware/efi && echo uefi || echo bios", "^" + o.firmware + "$"},
		{"for i in $(seq 90); do mountpoint -q /boot/efi && break; sleep 1; done; findmnt -n -o FSTYPE /boot/efi; ls /boot/efi/rampart", `^vfat\s+initrd.img\s+vmlinuz$`},
		// Unconfigured (no port yet): failed with the reason, not restarting.
		{"for i in $(seq 120); do s=$(systemctl is-active rampart); [ $s = activating ] || break; sleep 1; done; " +
			"echo $s; systemctl show -P NRestarts rampart; journalctl -u rampart -o cat --no-pager | grep -c 'at least one port is required'",
			`(?s)^failed\s+0\s+[1-9]`},
		{"test -e /usr/share/doc/rampart/README.md && ls /usr/share/man 2>&1 | wc -l", `^0$`},
	}
	for _, c := range checks {
		out, err := sh.run(ctx, c.cmd, time.Minute)
		if err != nil {
			return err
		}
		if !regexp.MustCompile(c.want).MatchString(out) {
			return fmt.Errorf("%q gave %q, want /%s/", c.cmd, out, c.want)
		}
	}
	rootSize, err := sh.run(ctx, "df -h --output=size / | tail -n1", time.Minute)
	if err != nil {
		return err
	}
	r.rootSize = strings.TrimSpace(rootSize)
	// The image's root partition is much smaller than the overlay disk.
	grown, err := sh.run(ctx, "df -B1G --output=size / | tail -n1", time.Minute)
	if err != nil {
		return err
	}
	if g, _ := strconv.Atoi(strings.TrimSpace(grown)); g < o.diskG-1 {
		return fmt.Errorf("root file system is %s GiB after the first boot, want it grown to about %d GiB", grown, o.diskG)
	}
	logf("first boot done: machine-id, names, ssh keys, API token, root password changed; root file system %s", r.rootSize)

	// The operator's step: name the capture port by its PCI address.
	pci, err := sh.run(ctx, "lspci -D -n -d ::0200 | cut -d' ' -f1", time.Minute)
	if err != nil {
		return err
	}
	if !regexp.MustCompile(`^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`).MatchString(pci) {
		return fmt.Errorf("lspci found no single Ethernet controller: %q", pci)
	}
	edit := fmt.Sprintf(`sed -i 's|^    ports: \[\]$|    ports: [{device: "%s", queues: 1}]|' /etc/rampart/rampart.yaml && rampart config check --config /etc/rampart/rampart.yaml && systemctl restart rampart`, pci)
	configured := time.Now()
	if _, err := sh.run(ctx, edit, 3*time.Minute); err != nil {
		return err
	}
	st, err := waitStatus(ctx, sh, 4*time.Minute, func(st *api.Status) bool { return st.Source == "dpdk" && len(st.Queues) > 0 })
	if err != nil {
		return err
	}
	r.active = time.Since(configured)
	drv, err := sh.run(ctx, "basename $(readlink /sys/bus/pci/devices/"+pci+"/driver)", time.Minute)
	if err != nil {
		return err
	}
	if drv != "uio_pci_generic" {
		return fmt.Errorf("capture port %s is bound to %q, want uio_pci_generic (no IOMMU in this VM)", pci, drv)
	}
	logf("rampart active and capturing on %s (%s) %.0f s after the config edit", pci, drv, r.active.Seconds())

	before := sumWorkers(st)
	sent, err := sendFrames(ctx, recv, nicAddr, o.frames, o.rate)
	if err != nil {
		return err
	}
	r.sent = uint64(sent)
	want := uint64(float64(sent) * o.minFraction)
	st, err = waitStatus(ctx, sh, 2*time.Minute, func(st *api.Status) bool { return sumWorkers(st)-before >= want })
	if st != nil {
		r.counted = sumWorkers(st) - before
		for _, q := range st.Queues {
			r.queueMissed += q.Missed
		}
	}
	if err != nil {
		return fmt.Errorf("sent %d frames, the sensor counted %d (want >= %d): %w", sent, r.counted, want, err)
	}
	table, err := sh.run(ctx, "rampart status", time.Minute)
	if err != nil {
		return err
	}
	fmt.Println(table)
	active, err := sh.run(ctx, "systemctl is-active rampart", time.Minute)
	if err != nil || active != "active" {
		return fmt.Errorf("systemctl is-active rampart: %q, %v", active, err)
	}
	logf("sent %d frames, rampart counted %d; service active", sent, r.counted)

	// A crashed sensor comes back.
	killed := time.Now()
	if _, err := sh.run(ctx, "systemctl kill -s KILL rampart", time.Minute); err != nil {
		return err
	}
	if _, err := waitStatus(ctx, sh, 4*time.Minute, func(st *api.Status) bool {
		return st.UptimeSeconds < time.Since(killed).Seconds()+1 && len(st.Queues) > 0
	}); err != nil {
		return fmt.Errorf("after SIGKILL: %w", err)
	}
	r.restart = time.Since(killed)
	restarts, err := sh.run(ctx, "systemctl show -P NRestarts rampart", time.Minute)
	if err != nil {
		return err
	}
	if n, _ := strconv.Atoi(restarts); n < 1 {
		return fmt.Errorf("rampart is back but NRestarts is %q", restarts)
	}
	logf("sensor killed with SIGKILL was restarted by systemd in %.0f s", r.restart.Seconds())

	if r.poweroff, err = poweroff(ctx, vm); err != nil {
		return err
	}
	if o.reboot {
		return secondBoot(ctx, h, newPassword, r)
	}
	return nil
}

// poweroff shuts the guest down and waits for qemu to exit.
func poweroff(ctx context.Context, vm *vm) (time.Duration, error) {
	off := time.Now()
	vm.send("poweroff\n")
	select {
	case <-vm.exited:
	case <-time.After(3 * time.Minute):
		return 0, errors.New("no poweroff within 3 minutes")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err := vm.waitErr; err != nil {
		return 0, fmt.Errorf("qemu exited with %v", err)
	}
	d := time.Since(off)
	logf("powered off in %.0f s", d.Seconds())
	return d, nil
}

// secondBoot boots the configured machine again, in a fresh qemu on the
// same disk (a warm `reboot` under TCG was seen to crawl: minutes in the
// kernel's zeroing of the hugepage pool, with soft lockups): no one-time
// password this time, and the sensor comes up by itself, binds its port and
// counts.
func secondBoot(ctx context.Context, h *harness, password string, r *report) error {
	o, recv, nicAddr := h.o, h.recv, h.nicAddr
	start := time.Now()
	vm, err := h.boot()
	if err != nil {
		return err
	}
	if _, err := vm.expect(ctx, `(?m)^\S+ login: `, 5*time.Minute); err != nil {
		return fmt.Errorf("no login prompt at the second boot: %w", err)
	}
	if strings.Contains(vm.since(0), "one-time password") {
		return errors.New("a one-time root password was shown again after the password was changed")
	}
	if err := relogin(ctx, vm, password); err != nil {
		return err
	}
	sh := &shell{vm: vm}
	sh.quiet()
	st, err := waitStatus(ctx, sh, 4*time.Minute, func(st *api.Status) bool { return st.Source == "dpdk" && len(st.Queues) > 0 })
	if err != nil {
		return fmt.Errorf("after reboot: %w", err)
	}
	r.rebootActive = time.Since(start)
	// The guest's own view: kernel start to the unit's start.
	mono, err := sh.run(ctx, "systemctl show -P ExecMainStartTimestampMonotonic rampart", time.Minute)
	if err != nil {
		return err
	}
	if us, err := strconv.ParseInt(mono, 10, 64); err == nil {
		r.bootToStart = time.Duration(us) * time.Microsecond
	}
	before := sumWorkers(st)
	n := max(o.frames/3, 1)
	sent, err := sendFrames(ctx, recv, nicAddr, n, o.rate)
	if err != nil {
		return err
	}
	want := uint64(float64(sent) * o.minFraction)
	st, err = waitStatus(ctx, sh, 2*time.Minute, func(st *api.Status) bool { return sumWorkers(st)-before >= want })
	if err != nil {
		return fmt.Errorf("after reboot, sent %d frames: %w", sent, err)
	}
	logf("second boot: rampart counting %.0f s after qemu start (unit started %.1f s after kernel start); %d of %d frames counted",
		r.rebootActive.Seconds(), r.bootToStart.Seconds(), sumWorkers(st)-before, sent)
	_, err = poweroff(ctx, vm)
	return err
}

func sumWorkers(st *api.Status) uint64 {
	var n uint64
	for _, w := range st.Workers {
		n += w.Packets
	}
	return n
}

// waitStatus polls `rampart status --json` in the guest until ok accepts it.
func waitStatus(ctx context.Context, sh *shell, limit time.Duration, ok func(*api.Status) bool) (*api.Status, error) {
	deadline := time.Now().Add(limit)
	var last *api.Status
	lastOut := ""
	for time.Now().Before(deadline) {
		out, err := sh.run(ctx, "rampart status --json | tr -d '\\n'", time.Minute)
		if err != nil {
			return last, err
		}
		var st api.Status
		if json.Unmarshal([]byte(out), &st) == nil {
			last = &st
			if ok(&st) {
				return &st, nil
			}
		}
		lastOut = out
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	state, _ := sh.run(ctx, "systemctl status --no-pager -n 20 rampart", time.Minute)
	return last, fmt.Errorf("status not as expected within %s; last: %.300s\n%s", limit, lastOut, state)
}

// sendFrames sends n UDP-in-IPv4 frames to hosts of the image's default
// networks (198.51.100.0/24), paced at rate per second.
func sendFrames(ctx context.Context, from *net.UDPConn, to *net.UDPAddr, n, rate int) (int, error) {
	const batch = 10
	interval := time.Second * batch / time.Duration(max(rate, 1))
	next := time.Now()
	sent := 0
	for sent < n {
		for i := 0; i < batch && sent < n; i++ {
			f := packettest.Frame{
				Src:     netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + sent%200)}),
				Dst:     netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + sent%50)}),
				Proto:   17,
				SrcPort: uint16(1024 + sent%30000),
				DstPort: 53,
				Payload: 64,
			}
			if _, err := from.WriteToUDP(f.Bytes(), to); err != nil {
				return sent, err
			}
			sent++
		}
		next = next.Add(interval)
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
	return sent, nil
}

// bannerPassword finds the first-boot banner's password. The line end is
// part of the match: the console arrives in pieces, and a match on a piece
// that ends inside the password would take a prefix of it.
const bannerPassword = `one-time password: (\S+)\r*\n`

// errRetry marks a login that failed in a way worth another try: login
// and passwd set the terminal with TCSAFLUSH after printing their prompt, so
// a password typed in that window (wide under TCG) is thrown away.
var errRetry = errors.New("login failed")

// loginFailed are what login and passwd print when the typed line was not
// the expected password.
const loginFailed = `Login incorrect|password unchanged|manipulation error|do not match|BAD PASSWORD`

// login logs in as root with the one-time password and replaces it, as the
// first login must. It returns the new password.
func login(ctx context.Context, vm *vm, oneTime string) (string, error) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	newPassword := "Rt-" + hex.EncodeToString(b)
	return newPassword, retryLogin(ctx, vm, func(pause time.Duration) error {
		return firstLogin(ctx, vm, oneTime, newPassword, pause)
	})
}

// relogin logs in as root with the password chosen at the first login.
func relogin(ctx context.Context, vm *vm, password string) error {
	return retryLogin(ctx, vm, func(pause time.Duration) error {
		if err := answer(ctx, vm, "", "root", 0); err != nil {
			return err
		}
		if err := answer(ctx, vm, `Password: `, password, pause); err != nil {
			return err
		}
		return expectShell(ctx, vm)
	})
}

// loginPause is how long the first attempt waits after a prompt before
// typing (tests shorten it).
var loginPause = time.Second

// retryLogin makes up to four attempts, each waiting longer after a prompt
// before typing, and waits for the next login prompt after a failure.
func retryLogin(ctx context.Context, vm *vm, attempt func(pause time.Duration) error) error {
	var err error
	for i := 1; i <= 4; i++ {
		if err = attempt(time.Duration(i) * loginPause); !errors.Is(err, errRetry) {
			return err
		}
		logf("login attempt %d: %v; trying again", i, err)
		if _, err := vm.expect(ctx, `(?m)^\S+ login: `, 2*time.Minute); err != nil {
			return err
		}
	}
	return err
}

// answer waits for prompt (unless it is empty: the caller has seen it),
// then for pause, and types line.
func answer(ctx context.Context, vm *vm, prompt, line string, pause time.Duration) error {
	if prompt != "" {
		if _, err := vm.expect(ctx, prompt, time.Minute); err != nil {
			return err
		}
	}
	select {
	case <-time.After(pause):
	case <-ctx.Done():
		return ctx.Err()
	}
	vm.send(line + "\n")
	return nil
}

func firstLogin(ctx context.Context, vm *vm, oneTime, newPassword string, pause time.Duration) error {
	if err := answer(ctx, vm, "", "root", 0); err != nil {
		return err
	}
	if err := answer(ctx, vm, `Password: `, oneTime, pause); err != nil {
		return err
	}
	m, err := vm.expect(ctx, `(Current password: |New password: |`+loginFailed+`)`, 2*time.Minute)
	if err != nil {
		return err
	}
	switch m[1] {
	case "Current password: ":
		time.Sleep(pause)
		vm.send(oneTime + "\n")
		if m, err = vm.expect(ctx, `(New password: |`+loginFailed+`)`, time.Minute); err != nil {
			return err
		}
		if m[1] != "New password: " {
			return fmt.Errorf("%w: %s", errRetry, m[1])
		}
	case "New password: ":
	default:
		return fmt.Errorf("%w: %s", errRetry, m[1])
	}
	time.Sleep(pause)
	vm.send(newPassword + "\n")
	if m, err = vm.expect(ctx, `(Retype new password: |`+loginFailed+`)`, time.Minute); err != nil {
		return err
	}
	if m[1] != "Retype new password: " {
		return fmt.Errorf("%w: %s", errRetry, m[1])
	}
	time.Sleep(pause)
	vm.send(newPassword + "\n")
	return expectShell(ctx, vm)
}

// expectShell waits for root's shell prompt, or a failed login.
func expectShell(ctx context.Context, vm *vm) error {
	m, err := vm.expect(ctx, `(root@rampart-[0-9a-f]{8}:~# |`+loginFailed+`)`, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("no shell after login: %w", err)
	}
	if !strings.HasPrefix(m[1], "root@") {
		return fmt.Errorf("%w: %s", errRetry, m[1])
	}
	return nil
}

// ansi matches terminal escape sequences (colours, bracketed paste).
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]`)

// shell runs commands in the guest's root shell on the serial console and
// returns their output (stdout and stderr, trimmed).
type shell struct {
	vm *vm
	n  int
}

// quiet turns off echo, kernel messages, pager and colours in the session.
func (s *shell) quiet() {
	s.vm.send("stty -echo; dmesg -n 1; export SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb; bind 'set enable-bracketed-paste off' 2>/dev/null\n")
}

func (s *shell) run(ctx context.Context, cmd string, limit time.Duration) (string, error) {
	s.n++
	// The markers are split by quotes so that an echoed command line never
	// matches them.
	s.vm.send(fmt.Sprintf("echo '@@B'%d; ( %s ) 2>&1; echo '@@E'%d $?\n", s.n, cmd, s.n))
	m, err := s.vm.expect(ctx, fmt.Sprintf(`(?s)@@B%d\r?\n(.*?)@@E%d (\d+)\r?\n`, s.n, s.n), limit)
	if err != nil {
		return "", fmt.Errorf("guest command %q: %w", cmd, err)
	}
	out := strings.TrimSpace(ansi.ReplaceAllString(strings.ReplaceAll(m[1], "\r", ""), ""))
	if m[2] != "0" {
		return out, fmt.Errorf("guest command %q exited %s: %s", cmd, m[2], out)
	}
	return out, nil
}

// vm is qemu with its serial console on stdin/stdout.
type vm struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	exited  chan struct{}
	waitErr error

	mu     sync.Mutex
	out    []byte // everything the serial console printed
	cursor int    // what expect has consumed
	grew   chan struct{}
}

func startVM(o options, overlay string, guestTx, nicAddr *net.UDPAddr, serialLog string) (*vm, error) {
	args := []string{
		"-accel", "tcg", "-cpu", "max", "-smp", strconv.Itoa(o.cpus), "-m", strconv.Itoa(o.memoryMB),
		"-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
		"-drive", "file=" + overlay + ",if=virtio,format=qcow2",
		"-netdev", fmt.Sprintf("socket,id=cap0,udp=%s,localaddr=%s", guestTx, nicAddr),
		"-device", "virtio-net-pci,netdev=cap0",
		"-device", "virtio-rng-pci",
	}
	if o.firmware == "uefi" {
		// OVMF's code read-only, a fresh copy of its variable store per run.
		vars := filepath.Join(o.work, "OVMF_VARS.fd")
		b, err := os.ReadFile("/usr/share/OVMF/OVMF_VARS_4M.fd")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(vars, b, 0o644); err != nil {
			return nil, err
		}
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
			"-drive", "if=pflash,format=raw,unit=1,file="+vars)
	}
	cmd := exec.Command("qemu-system-x86_64", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	logFile, err := os.Create(serialLog)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("qemu-system-x86_64: %w", err)
	}
	v := &vm{cmd: cmd, stdin: stdin, exited: make(chan struct{}), grew: make(chan struct{})}
	go func() {
		defer logFile.Close()
		rd := bufio.NewReader(stdout)
		buf := make([]byte, 4096)
		for {
			n, err := rd.Read(buf)
			if n > 0 {
				_, _ = logFile.Write(buf[:n])
				v.feed(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		v.waitErr = cmd.Wait()
		close(v.exited)
	}()
	return v, nil
}

func (v *vm) send(s string) { _, _ = io.WriteString(v.stdin, s) }

// feed appends console output and wakes expect.
func (v *vm) feed(b []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.out = append(v.out, b...)
	close(v.grew)
	v.grew = make(chan struct{})
}

// since is the console output after byte offset mark.
func (v *vm) since(mark int) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return string(v.out[mark:])
}

// expect waits until the console output after the cursor matches pattern,
// moves the cursor past the match and returns its submatches.
func (v *vm) expect(ctx context.Context, pattern string, limit time.Duration) ([]string, error) {
	re := regexp.MustCompile(pattern)
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		v.mu.Lock()
		loc := re.FindSubmatchIndex(v.out[v.cursor:])
		var m []string
		if loc != nil {
			for i := 0; i < len(loc); i += 2 {
				if loc[i] >= 0 {
					m = append(m, string(v.out[v.cursor+loc[i]:v.cursor+loc[i+1]]))
				} else {
					m = append(m, "")
				}
			}
			v.cursor += loc[1]
		}
		grew := v.grew
		v.mu.Unlock()
		if m != nil {
			return m, nil
		}
		select {
		case <-grew:
		case <-v.exited:
			return nil, fmt.Errorf("qemu exited (%v) while waiting for /%s/", v.waitErr, pattern)
		case <-timer.C:
			return nil, fmt.Errorf("no /%s/ on the serial console within %s", pattern, limit)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for /%s/: %w", pattern, ctx.Err())
		}
	}
}

// kill ends qemu by its PID (and its process group) if it still runs.
func (v *vm) kill() {
	select {
	case <-v.exited:
		return
	default:
	}
	pid := v.cmd.Process.Pid
	logf("killing qemu pid %d", pid)
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = v.cmd.Process.Kill()
	select {
	case <-v.exited:
	case <-time.After(10 * time.Second):
	}
}
