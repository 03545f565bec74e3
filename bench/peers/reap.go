// A subreaper to start a forking server under, so that its orphaned session processes are reaped inside the measured tree.
package peers

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A server that forks a process per session counts, in its CPU time, the
// session processes it has waited for (cutime and cstime in
// /proc/PID/stat). vsftpd's session is two processes, and when the parent
// exits before it has waited for its child, the child is handed to init,
// which reaps it: that child did the transfer, and its CPU time is lost to
// whoever measures the server's tree. Started under Reap, the server's
// orphans are handed to Reap instead (PR_SET_CHILD_SUBREAPER), which waits
// for every one of them, so their time stays in the tree rooted at Reap's
// process, and the server's CPU time is read there (Server.PID).

// reapGrace is how long Reap waits, once the server has exited, for the
// processes left below it to end before it kills them.
const reapGrace = 5 * time.Second

// Reap runs args (a program and its arguments) as its child, as a child
// subreaper: it waits for every process that ends below it, the child's
// orphans included. SIGTERM, SIGINT and SIGHUP are passed on to the child.
// Once the child has exited, what is left below Reap gets reapGrace to end
// and is then killed. It returns the child's exit status (128 + the
// signal's number when a signal ended it), or 2 for a usage mistake.
func Reap(args []string, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: ftpbench reap PROGRAM [ARG...]")
		return 2
	}
	if err := subreaper(); err != nil {
		fmt.Fprintf(stderr, "peers: reap: %v\n", err)
		return 1
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "peers: reap: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	child, err := os.StartProcess(path, args, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys:   childAttr(),
	})
	if err != nil {
		fmt.Fprintf(stderr, "peers: reap: %v\n", err)
		return 1
	}
	go func() {
		for s := range sigs {
			child.Signal(s)
		}
	}()
	status := 1
	var killAt time.Time // once the child has exited: when the rest is killed
	for {
		var ws unix.WaitStatus
		flags := 0
		if !killAt.IsZero() {
			flags = unix.WNOHANG
		}
		pid, err := unix.Wait4(-1, &ws, flags, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ECHILD):
			return status
		case err != nil:
			fmt.Fprintf(stderr, "peers: reap: wait: %v\n", err)
			return 1
		case pid == child.Pid:
			status = exitStatus(ws)
			killAt = time.Now().Add(reapGrace)
		case pid == 0: // WNOHANG: some are still running
			if time.Now().After(killAt) {
				for _, p := range childrenOf(os.Getpid()) {
					unix.Kill(p, unix.SIGKILL)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// exitStatus is a shell's view of ws: the exit code, or 128 + the signal.
func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if pp, ok := statParent(string(b)); ok && pp == pid {
			out = append(out, p)
		}
	}
	return out
}

// statParent reads the parent's PID (field 4) from the text of
// /proc/PID/stat, after the command name's last ')'.
func statParent(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// command is the command that starts bin with args: under `o.Reaper reap`
// when o names a reaper, so that the server's CPU time is read with its
// orphans' (see Reap).
func (o Options) command(bin string, args ...string) *exec.Cmd {
	if o.Reaper == "" {
		return exec.Command(bin, args...)
	}
	return exec.Command(o.Reaper, append([]string{"reap", bin}, args...)...)
}
