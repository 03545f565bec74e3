// A server's CPU time in nanoseconds: its processes held in a control group of their own, read where the group counts them.
package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// /proc/PID/stat gives a process's CPU time in clock ticks of 10 ms, and
// only for the processes still alive plus the children they reaped. A
// 1 GiB download costs a server about 150 ms, so one tick is 7 % of it,
// and a session process handed to init is lost. A control group counts the
// CPU time of every task that ran in it, exited or orphaned, in
// nanoseconds (cgroup v1's cpuacct.usage) or microseconds (v2's cpu.stat).
// TrackCPU moves a server's processes into a group of their own, and
// CPUTime then reads the group instead of /proc.

// tracked maps a tracked server's PID to its group.
var tracked sync.Map // int → *cpuGroup

// TrackCPU moves pid and its descendants into a new control group, so that
// CPUTime(procRoot, pid) reads their CPU time there: every process the
// server starts from then on is counted too, whether it exits, is
// orphaned or is reaped by anyone. Where the kernel has a cpu controller
// to spare, they also become one entity for the scheduler, whatever
// sessions their processes start (TrackedSched; see newCPUGroup). Call it
// once the server is ready and before any client connects, when its tree
// is still. The returned untrack
// removes the group once the server has exited (or moves what is left
// back to the parent group). It fails where control groups cannot be made
// (not Linux, not root, no cpuacct or cgroup2 mount, or only where a new
// group would change the server's scheduling: see newCPUGroup): CPUTime
// then reads /proc as before, and the caller may go on.
func TrackCPU(procRoot string, pid int) (untrack func() error, err error) {
	g, err := newCPUGroup(fmt.Sprintf("ftpbench-%d", pid), pid)
	if err != nil {
		return nil, err
	}
	pids, err := Descendants(procRoot, pid)
	if err == nil {
		err = g.add(pids)
	}
	if err != nil {
		g.remove()
		return nil, err
	}
	tracked.Store(pid, g)
	return func() error {
		tracked.CompareAndDelete(pid, g)
		return g.remove()
	}, nil
}

// TrackedCPU reports whether pid's CPU time is read from a control group,
// and which kind ("cgroup v1 cpuacct" or "cgroup v2").
func TrackedCPU(pid int) (kind string, ok bool) {
	v, ok := tracked.Load(pid)
	if !ok {
		return "", false
	}
	return v.(*cpuGroup).kind(), true
}

// TrackedSched says how the kernel schedules a tracked server against the
// load generator: kind "cgroup v1 cpu" or "cgroup v2 cpu" when its
// processes and threads are one entity (a cpu control group of their
// own); "" and why not otherwise. ok is false for a pid not tracked.
func TrackedSched(pid int) (kind string, why error, ok bool) {
	v, ok := tracked.Load(pid)
	if !ok {
		return "", nil, false
	}
	kind, why = v.(*cpuGroup).schedKind()
	return kind, why, true
}

// trackedCPUTime reads pid's group, if it has one.
func trackedCPUTime(pid int) (time.Duration, bool, error) {
	v, ok := tracked.Load(pid)
	if !ok {
		return 0, false, nil
	}
	d, err := v.(*cpuGroup).usage()
	return d, true, err
}

// ProcCPUSource is Report.CPUSources' name for CPU time read from
// /proc/PID/stat.
const ProcCPUSource = "/proc"

// CPUSourceText says, for a report, where the servers' CPU time was read
// and how fine it is.
func CPUSourceText(sources map[string]string) string {
	kinds := map[string][]string{}
	for srv, k := range sources {
		kinds[k] = append(kinds[k], srv)
	}
	says := func(k string) string {
		switch k {
		case "cgroup v1 cpuacct":
			return "from a control group made for the server (cgroup v1 cpuacct.usage, in nanoseconds), which counts every process that ran in it, reaped or not"
		case "cgroup v2":
			return "from a control group made for the server (cgroup v2 cpu.stat usage_usec, in microseconds), which counts every process that ran in it, reaped or not"
		}
		return "from /proc/PID/stat of the server and its descendants, session processes it reaped included, in 10 ms ticks"
	}
	switch len(kinds) {
	case 0:
		return says(ProcCPUSource)
	case 1:
		for k := range kinds {
			return says(k)
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		srvs := kinds[k]
		slices.Sort(srvs)
		parts = append(parts, strings.Join(srvs, ", ")+": "+says(k))
	}
	return strings.Join(parts, "; ")
}
