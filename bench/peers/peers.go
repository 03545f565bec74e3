// What every peer shares: options, the running-server handle, process start and stop.
package peers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/bench"
)

// Options are what a peer is started with.
type Options struct {
	Data   string // the public tree, served anonymously and read-only
	Upload string // the writable account's root
	Work   string // a private folder for configs and logs
	User   string // the writable account (default "bench")
	Pass   string // its password (default "bench-pass")
	Log    io.Writer
	// TLSCert and TLSKey (PEM files, see MakeCert), when set, turn on
	// explicit FTPS where the server offers it, with TLS optional for
	// every login: plain sessions run as before, and sessions that send
	// AUTH TLS and PROT P are protected, with session reuse required on
	// data connections. Server.TLS says whether it took them.
	TLSCert, TLSKey string
	// DataUnsent, for rftpd only, is its limits.data_unsent: the unsent
	// bytes a large download may queue in the kernel (0: rftpd's default).
	DataUnsent int
	// InPlaceUploads, for rftpd only, turns atomic_uploads and
	// durable_uploads off: uploads are written in place and not synced,
	// as the peers write them.
	InPlaceUploads bool
	// NoStatCache, for rftpd only, turns its stat cache off (stat_cache
	// = "0s"): every SIZE and MDTM goes to a worker.
	NoStatCache bool
	// Reaper, when set, is an ftpbench binary: vsftpd, pure-ftpd and
	// ProFTPD are started under `Reaper reap` (see Reap), and Server.PID
	// is the reaper's, so that the CPU time read there includes session
	// processes the server left to be reaped by others.
	Reaper string
}

func (o Options) withDefaults() Options {
	if o.User == "" {
		o.User = "bench"
	}
	if o.Pass == "" {
		o.Pass = "bench-pass"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Server is a running peer.
type Server struct {
	Name    string
	Version string
	Addr    string // 127.0.0.1:PORT
	URL     string // anonymous, read-only
	PutURL  string // the writable account
	PID     int
	TLS     bool // explicit FTPS is on (Options.TLSCert)
	// ImplicitAddr is rftpd's implicit-FTPS listener, when started with
	// -implicit-listen.
	ImplicitAddr string
	Notes        []string
	// CPUSource says where the server's CPU time is read (bench.TrackCPU):
	// "cgroup v1 cpuacct" or "cgroup v2" for a control group of its own,
	// "" for /proc.
	CPUSource string
	// Sched says how the kernel schedules the server against the load
	// generator (bench.TrackedSched): "cgroup v1 cpu" or "cgroup v2 cpu"
	// when its processes and threads are one entity, "" when they are
	// weighed one by one (or session by session, under autogroup).
	Sched string

	untrack func() error // ends the control group, once the server exited

	cmd    *exec.Cmd
	exited chan error
	stderr *lockedBuffer
	once   sync.Once
	err    error
}

// Stop sends SIGTERM, waits up to 20 s, then kills.
func (s *Server) Stop() error {
	s.once.Do(func() {
		if s.cmd == nil {
			return
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.exited:
			s.err = err
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			s.err = fmt.Errorf("peers: %s did not exit within 20s of SIGTERM (killed)", s.Name)
		}
		if s.untrack != nil {
			s.untrack() // left behind, a group holds no process and costs nothing
		}
	})
	return s.err
}

// trackCPU moves the ready server's processes into a control group of
// their own, so that its CPU time is read in nanoseconds and counts every
// session process, reaped or orphaned, and so that the kernel schedules
// them as one (bench.TrackCPU). Where no group can be made, the time is
// read from /proc as before, and a note says so.
func (s *Server) trackCPU() {
	untrack, err := bench.TrackCPU("/proc", s.PID)
	if err != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("CPU time from /proc in 10 ms ticks: %v", err))
		return
	}
	s.untrack = untrack
	s.CPUSource, _ = bench.TrackedCPU(s.PID)
	sched, why, _ := bench.TrackedSched(s.PID)
	s.Sched = sched
	if why != nil {
		s.Notes = append(s.Notes, fmt.Sprintf("scheduled process by process, not as one group: %v", why))
	}
}

// Stderr returns what the server wrote to stderr so far (the last 64 KiB).
func (s *Server) Stderr() string {
	if s.stderr == nil {
		return ""
	}
	return s.stderr.String()
}

func (s *Server) setURLs(user, pass string) {
	s.URL = "ftp://" + s.Addr + "/"
	u := url.URL{Scheme: "ftp", Host: s.Addr, Path: "/", User: url.UserPassword(user, pass)}
	s.PutURL = u.String()
}

// lockedBuffer keeps the tail of a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

const keepOutput = 64 << 10

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	if l.b.Len() > 2*keepOutput {
		tail := append([]byte(nil), l.b.Bytes()[l.b.Len()-keepOutput:]...)
		l.b.Reset()
		l.b.Write(tail)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs cmd with its output kept, and returns the handle.
func start(name string, cmd *exec.Cmd) (*Server, error) {
	s := &Server{Name: name, cmd: cmd, exited: make(chan error, 1), stderr: &lockedBuffer{}}
	if cmd.Stderr == nil {
		cmd.Stderr = s.stderr
	}
	if cmd.Stdout == nil {
		cmd.Stdout = s.stderr
	}
	// A session of its own, so also a process group of its own (a Ctrl-C
	// at the terminal reaches ftpbench, which stops the servers). Where
	// the kernel groups tasks by session for scheduling
	// (CONFIG_SCHED_AUTOGROUP, kernel.sched_autogroup_enabled), a server
	// left in ftpbench's session would share one group's CPU share with
	// the load generator, while vsftpd, whose session processes each call
	// setsid, gets a group per transfer; each server gets one of its own,
	// as under a service manager. Once it is ready, trackCPU makes its
	// whole tree one entity for the scheduler where it can (a cpu control
	// group), so that vsftpd's transfers too share one.
	cmd.SysProcAttr = serverAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("peers: start %s: %w", name, err)
	}
	s.PID = cmd.Process.Pid
	go func() { s.exited <- cmd.Wait() }()
	return s, nil
}

// waitGreeting waits until addr answers with a 220 greeting.
func (s *Server) waitGreeting(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("peers: %s exited: %v\n%s", s.Name, err, s.Stderr())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "220") {
				return nil
			}
			last = fmt.Errorf("greeting %q: %v", strings.TrimSpace(line), rerr)
		} else {
			last = err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("peers: %s did not greet on %s within %v: %v\n%s", s.Name, addr, within, last, s.Stderr())
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

var errNotFound = errors.New("not found")
