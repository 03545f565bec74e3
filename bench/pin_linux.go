// CPU affinity on Linux: the CPUs this process may use, and pinning a server's tree, this process, one thread or a started command.
package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// AllowedCPUs returns the CPUs the calling thread may run on, ascending.
func AllowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("bench: sched_getaffinity: %w", err)
	}
	return cpuList(&set), nil
}

// cpuList lists the CPUs in set, ascending.
func cpuList(set *unix.CPUSet) []int {
	var out []int
	for cpu, n := 0, set.Count(); len(out) < n; cpu++ {
		if set.IsSet(cpu) {
			out = append(out, cpu)
		}
	}
	return out
}

// oneCPU is the set holding cpu alone.
func oneCPU(cpu int) *unix.CPUSet {
	var set unix.CPUSet
	set.Set(cpu)
	return &set
}

// pinPasses bounds the passes setTasks makes over a tree: each pass sets
// the threads that appeared since the one before, and a pass that finds
// none ends it (threads started by a pinned thread inherit its mask).
const pinPasses = 50

// setTasks sets set on every thread (procRoot/PID/task/TID) of pid, and
// of its descendants when tree is true, until a pass finds no thread it
// has not set. Threads and processes that end meanwhile are skipped; a
// root that has ended is no error.
func setTasks(procRoot string, pid int, tree bool, set *unix.CPUSet) error {
	done := map[int]bool{}
	for range pinPasses {
		pids := []int{pid}
		if tree {
			var err error
			if pids, err = Descendants(procRoot, pid); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
		}
		fresh := 0
		for _, p := range pids {
			ents, err := os.ReadDir(filepath.Join(procRoot, strconv.Itoa(p), "task"))
			if err != nil {
				continue // the process ended
			}
			for _, e := range ents {
				tid, err := strconv.Atoi(e.Name())
				if err != nil || done[tid] {
					continue
				}
				if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
					return fmt.Errorf("bench: sched_setaffinity %d (of process %d): %w", tid, p, err)
				}
				done[tid] = true
				fresh++
			}
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("bench: pin process %d: threads kept appearing after %d passes", pid, pinPasses)
}

// PinTree puts every thread of pid and of its descendants on cpu; the
// processes and threads they start later inherit it. undo gives every
// thread of the tree as it then is the mask pid had before.
func PinTree(procRoot string, pid, cpu int) (undo func() error, err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &old); err != nil {
		return nil, fmt.Errorf("bench: sched_getaffinity %d: %w", pid, err)
	}
	if err := setTasks(procRoot, pid, true, oneCPU(cpu)); err != nil {
		setTasks(procRoot, pid, true, &old)
		return nil, err
	}
	return func() error { return setTasks(procRoot, pid, true, &old) }, nil
}

// PinSelf puts every thread of this process (not its children) on cpu;
// undo gives them back the calling thread's mask from before.
func PinSelf(procRoot string, cpu int) (undo func() error, err error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, fmt.Errorf("bench: sched_getaffinity: %w", err)
	}
	self := os.Getpid()
	if err := setTasks(procRoot, self, false, oneCPU(cpu)); err != nil {
		setTasks(procRoot, self, false, &old)
		return nil, err
	}
	return func() error { return setTasks(procRoot, self, false, &old) }, nil
}

// PinThread locks the calling goroutine to its thread and puts that
// thread on cpu. undo, called from the same goroutine, restores the
// thread's mask and unlocks it.
func PinThread(cpu int) (undo func() error, err error) {
	runtime.LockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("bench: sched_getaffinity: %w", err)
	}
	if err := unix.SchedSetaffinity(0, oneCPU(cpu)); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("bench: sched_setaffinity CPU %d: %w", cpu, err)
	}
	return func() error {
		if err := unix.SchedSetaffinity(0, &old); err != nil {
			// Left locked, the thread ends with the goroutine rather
			// than run others pinned.
			return fmt.Errorf("bench: sched_setaffinity: %w", err)
		}
		runtime.UnlockOSThread()
		return nil
	}, nil
}

// StartPinned starts cmd on cpu: it forks from a thread pinned there, so
// the command and everything it starts inherit that CPU.
func StartPinned(cmd *exec.Cmd, cpu int) error {
	undo, err := PinThread(cpu)
	if err != nil {
		return err
	}
	err = cmd.Start()
	if uerr := undo(); err == nil && uerr != nil {
		// The command runs, pinned; only this thread's mask is off.
		return uerr
	}
	return err
}
