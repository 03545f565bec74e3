// The busy time of one CPU, from /proc/stat: what a server, its client and the kernel's work between them cost together when all ran there.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// On loopback the sender's sendfile call also carries the packets into
// the receiver's socket (the softirq runs in the sender's context), and
// how much of that work falls to the server, to the client (when its
// acknowledgement opens the window and its context transmits what was
// queued) or to ksoftirqd depends on the send buffer and on scheduling.
// A server that queues more can so lower its own CPU per GiB while the
// whole transfer costs more: on one CPU, a scratch rftpd whose download
// sockets had a 16 MiB send buffer (SO_SNDBUFFORCE) spent 144 ms of CPU
// per GiB against 317 for the same binary without it, its client 667
// against 440, and the CPU as a whole 950 against 860 (medians of 8
// alternating 1 GiB downloads by ftpbench's client). When server and
// client share a CPU, that CPU's busy time is the cost of the transfer
// that no such shift can lower, and reports show it beside the server's.

// busySince reads CPU cpu's busy time now (CPUBusy) and returns what
// gives the busy time since then: 0 when either reading failed.
func busySince(procRoot string, cpu int) func() time.Duration {
	t0, err := CPUBusy(procRoot, cpu)
	if err != nil {
		return func() time.Duration { return 0 }
	}
	return func() time.Duration {
		t1, err := CPUBusy(procRoot, cpu)
		if err != nil || t1 < t0 {
			return 0
		}
		return t1 - t0
	}
}

// userHZ is the unit of /proc/stat's times: USER_HZ, 100 on Linux
// whatever the kernel's tick (proc(5)).
const userHZ = 100

// CPUBusy reads how long CPU cpu has been busy since boot from
// procRoot/stat: user, nice, system, irq and softirq time. Idle and
// iowait are not work; steal is time the hypervisor gave to others.
// Guest time is already within user and nice.
func CPUBusy(procRoot string, cpu int) (time.Duration, error) {
	name := filepath.Join(procRoot, "stat")
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, fmt.Errorf("bench: CPU busy time: %w", err)
	}
	want := "cpu" + strconv.Itoa(cpu)
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != want {
			continue
		}
		// cpuN user nice system idle iowait irq softirq ...
		if len(f) < 8 {
			return 0, fmt.Errorf("bench: CPU busy time: %s: %q has %d fields, want at least 8", name, want, len(f))
		}
		var ticks uint64
		for _, i := range []int{1, 2, 3, 6, 7} {
			v, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: CPU busy time: %s: %s: %w", name, want, err)
			}
			ticks += v
		}
		return time.Duration(ticks) * (time.Second / userHZ), nil
	}
	return 0, fmt.Errorf("bench: CPU busy time: %s has no %s line", name, want)
}
