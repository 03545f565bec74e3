// Control groups on Linux: find the cpuacct (v1) or cgroup2 mount, make a group, move processes in, read its CPU time; and a cpu group that makes them one for the scheduler.
package bench

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cpuGroup is one control group made for a tracked server.
type cpuGroup struct {
	dir string // the group's folder
	v2  bool   // cgroup2 (cpu.stat usage_usec), else v1 cpuacct (cpuacct.usage)
	// The kernel schedules the group's tasks as one entity (one task
	// group) when cpu is set: a group made for the same tasks in a v1
	// hierarchy holding the cpu controller; or when handsCPU: this cgroup2
	// group's parent hands cpu down to it. Otherwise they are weighed task
	// by task (or by session, where autogroup is on), and schedErr says
	// why.
	cpu      *cpuGroup
	handsCPU bool
	schedErr error
}

// cgroupMounts returns the mount points, listed in /proc/self/mountinfo,
// of a cpuacct v1 hierarchy that does not also hold the cpu controller, of
// the v1 hierarchy that holds cpu (alone or with others), and of cgroup2
// ("" for one that is not there).
func cgroupMounts() (acct, cpu, v2 string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 || a[3] != "/" {
			continue // a bind mount of a subtree: not the hierarchy's root
		}
		switch {
		case b[0] == "cgroup2" && v2 == "":
			v2 = a[4]
		case b[0] == "cgroup" && acct == "" && hasOption(b[2], "cpuacct") && !hasOption(b[2], "cpu"):
			acct = a[4]
		case b[0] == "cgroup" && cpu == "" && hasOption(b[2], "cpu"):
			cpu = a[4]
		}
	}
	return acct, cpu, v2, sc.Err()
}

func hasOption(opts, name string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == name {
			return true
		}
	}
	return false
}

// cgroupOf returns pid's group in the hierarchy whose line in
// /proc/PID/cgroup has controllers ctl ("" for cgroup2's "0::" line).
func cgroupOf(pid int, ctl string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if (ctl == "" && f[0] == "0" && f[1] == "") || (ctl != "" && hasOption(f[1], ctl)) {
			return f[2], nil
		}
	}
	return "", fmt.Errorf("no %q line in /proc/%d/cgroup", ctl, pid)
}

// preferCgroup2 makes newCPUGroup use cgroup2 even where cpuacct is
// mounted (for tests of both kinds).
var preferCgroup2 = false

// newCPUGroup makes a group named name inside pid's own group, in a
// cpuacct hierarchy of its own, or else in cgroup2: cpuacct counts
// nanoseconds, cgroup2 microseconds. A group left by an earlier run under
// the same name is reused.
//
// It also makes the group's tasks one entity for the scheduler, as a
// service manager does with a service's cgroup: a second group of the same
// name in the v1 hierarchy that holds the cpu controller, or the cgroup2
// group itself where its parent hands cpu down to it. Otherwise the
// kernel would weigh a server's processes against the load generator one
// by one, or, where autogroup is on (CONFIG_SCHED_AUTOGROUP,
// kernel.sched_autogroup_enabled), session by session: vsftpd, whose
// session processes each call setsid, would get a share per transfer
// while rftpd's transfers, threads of one process, share one. Within a
// task group autogroup no longer applies. Where no cpu group can be made,
// the server is tracked all the same and schedErr says why.
func newCPUGroup(name string, pid int) (*cpuGroup, error) {
	v1, cpu, v2, err := cgroupMounts()
	if err != nil {
		return nil, fmt.Errorf("bench: control groups: %w", err)
	}
	g := &cpuGroup{}
	var mount, ctl string
	switch {
	case v1 != "" && !(preferCgroup2 && v2 != ""):
		mount, ctl = v1, "cpuacct"
	case v2 != "":
		mount, g.v2 = v2, true
	default:
		return nil, errors.New("bench: control groups: neither a cpuacct hierarchy without cpu nor cgroup2 is mounted")
	}
	g.dir, err = makeGroup(mount, ctl, name, pid)
	if err != nil {
		return nil, err
	}
	if _, err := g.usage(); err != nil {
		os.Remove(g.dir)
		return nil, err
	}
	if g.v2 {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(g.dir), "cgroup.subtree_control"))
		g.handsCPU = err == nil && hasOption(strings.ReplaceAll(strings.TrimSpace(string(b)), " ", ","), "cpu")
	}
	switch {
	case g.handsCPU: // this group itself schedules its tasks as one
	case cpu != "":
		dir, err := makeGroup(cpu, "cpu", name, pid)
		if err != nil {
			g.schedErr = err
			break
		}
		g.cpu = &cpuGroup{dir: dir}
	case v2 != "":
		g.schedErr = errors.New("bench: control groups: no cgroup v1 hierarchy holds the cpu controller, and cgroup2 does not hand it down to the server's group")
	default:
		g.schedErr = errors.New("bench: control groups: no hierarchy holds the cpu controller")
	}
	return g, nil
}

// makeGroup makes (or reuses) the group name inside pid's group of the
// hierarchy mounted at mount, whose line in /proc/PID/cgroup has
// controllers ctl ("" for cgroup2), and returns its folder.
func makeGroup(mount, ctl, name string, pid int) (string, error) {
	parent, err := cgroupOf(pid, ctl)
	if err != nil {
		return "", fmt.Errorf("bench: control groups: %w", err)
	}
	dir := filepath.Join(mount, parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("bench: control groups: %w", err)
	}
	return dir, nil
}

func (g *cpuGroup) kind() string {
	if g.v2 {
		return "cgroup v2"
	}
	return "cgroup v1 cpuacct"
}

// schedKind says how the group's tasks are scheduled: "cgroup v1 cpu" or
// "cgroup v2 cpu" as one entity, "" and why not otherwise.
func (g *cpuGroup) schedKind() (string, error) {
	switch {
	case g.cpu != nil:
		return "cgroup v1 cpu", nil
	case g.handsCPU: // this group itself schedules its tasks as one
		return "cgroup v2 cpu", nil
	}
	return "", g.schedErr
}

// add moves each process (all its threads) into the group, and into its
// cpu group if it has one. A process that exits meanwhile is skipped; the
// first one must move. Where it cannot move into the cpu group, the group
// gives up scheduling its tasks as one (schedErr says why) and the
// processes stay where they were in that hierarchy.
func (g *cpuGroup) add(pids []int) error {
	for i, p := range pids {
		err := os.WriteFile(filepath.Join(g.dir, "cgroup.procs"), []byte(strconv.Itoa(p)), 0)
		if err != nil && i == 0 {
			return fmt.Errorf("bench: control groups: move %d: %w", p, err)
		}
	}
	if g.cpu == nil {
		return nil
	}
	if err := g.cpu.add(pids); err != nil {
		g.cpu.remove()
		g.cpu, g.schedErr = nil, err
	}
	return nil
}

// usage returns the CPU time every task in the group has used since it
// was made.
func (g *cpuGroup) usage() (time.Duration, error) {
	if !g.v2 {
		b, err := os.ReadFile(filepath.Join(g.dir, "cpuacct.usage"))
		if err != nil {
			return 0, fmt.Errorf("bench: control groups: %w", err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || ns < 0 {
			return 0, fmt.Errorf("bench: control groups: malformed cpuacct.usage %q", b)
		}
		return time.Duration(ns), nil
	}
	b, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		return 0, fmt.Errorf("bench: control groups: %w", err)
	}
	return parseCPUStat(string(b))
}

// parseCPUStat returns usage_usec from the text of a cgroup2 cpu.stat.
func parseCPUStat(s string) (time.Duration, error) {
	for line := range strings.SplitSeq(s, "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || us < 0 {
				break
			}
			return time.Duration(us) * time.Microsecond, nil
		}
	}
	return 0, fmt.Errorf("bench: control groups: no usage_usec in cpu.stat %q", s)
}

// remove deletes the group and its cpu group. Processes still in them (a
// server that has not exited yet) are first moved back to the parent
// group.
func (g *cpuGroup) remove() error {
	if g.cpu != nil {
		if err := g.cpu.remove(); err != nil {
			return err
		}
	}
	if err := os.Remove(g.dir); err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(g.dir, "cgroup.procs"))
	if err != nil {
		return fmt.Errorf("bench: control groups: %w", err)
	}
	root := filepath.Join(filepath.Dir(g.dir), "cgroup.procs")
	for p := range strings.FieldsSeq(string(b)) {
		os.WriteFile(root, []byte(p), 0) // one that exits meanwhile needs no move
	}
	if err := os.Remove(g.dir); err != nil {
		return fmt.Errorf("bench: control groups: %w", err)
	}
	return nil
}
