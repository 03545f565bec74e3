// The busy time of one CPU, from /proc/stat: what a server, its client and the kernel's work between them cost together when all ran there.
package bench

import (
	"bufio"
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

// userHZ is the unit of /proc/stat's times: USER_HZ, 100 on Linux
// whatever the kernel's tick (proc(5)).
const userHZ = 100

// CPUBusy reads how long CPU cpu has been busy since boot from
// procRoot/stat: user, nice, system, irq and softirq time. Idle and
// iowait are not work; steal is time the hypervisor gave to others.
// Guest time is already within user and nice.
func CPUBusy(procRoot string, cpu int) (time.Duration, error) {
	f, err := os.Open(filepath.Join(procRoot, "stat"))
	if err != nil {
		return 0, fmt.Errorf("bench: CPU busy time: %w", err)
	}
	defer f.Close()
	return parseCPUBusy(f.Name(), bufio.NewScanner(f), cpu)
}

// parseCPUBusy reads the "cpuN" line of a /proc/stat text.
func parseCPUBusy(name string, sc *bufio.Scanner, cpu int) (time.Duration, error) {
	want := "cpu" + strconv.Itoa(cpu)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
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
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("bench: CPU busy time: %s: %w", name, err)
	}
	return 0, fmt.Errorf("bench: CPU busy time: %s has no %s line", name, want)
}
