// Linux system calls: zero-copy transfers, errno mapping, removal by descriptor.
//go:build linux

package dtp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// oNonblock makes opening a FIFO return at once instead of waiting for a
// writer; it changes nothing for regular files and directories.
const oNonblock = unix.O_NONBLOCK

// errnoProtocol maps the errno inside err to the protocol error it means,
// or nil.
func errnoProtocol(err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return nil
	}
	switch errno {
	case unix.ENOTDIR:
		return protocol.ErrNotDir
	case unix.EISDIR:
		return protocol.ErrIsDir
	case unix.ENOTEMPTY:
		return protocol.ErrNotEmpty
	case unix.ENOSPC:
		return protocol.ErrNoSpace
	case unix.EDQUOT:
		return protocol.ErrQuota
	case unix.EACCES, unix.EPERM, unix.EROFS:
		return protocol.ErrPermission
	case unix.ENXIO:
		// open(2) of a socket, of a FIFO for writing without a reader
		// (O_NONBLOCK), or of a device without a driver: a special
		// file, which is never served.
		return protocol.ErrPermission
	case unix.ENAMETOOLONG, unix.ELOOP:
		return protocol.ErrBadName
	}
	return nil
}

// isStorageErrno reports whether err, from a call moving data between a
// socket and a file, failed on the file's side.
func isStorageErrno(err error) bool {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case unix.ENOSPC, unix.EDQUOT, unix.EFBIG, unix.EIO, unix.EROFS:
		return true
	}
	return false
}

// removeDir removes the empty directory rel: unlinkat(AT_REMOVEDIR) on its
// parent's descriptor, so a file never goes by mistake (ENOTDIR) and
// nothing is looked up by path outside the root.
func removeDir(root *os.Root, rel string) error {
	return unlinkAt(root, rel, unix.AT_REMOVEDIR)
}

// removeFile removes the non-directory rel (a symlink itself, not its
// target); a directory fails with EISDIR.
func removeFile(root *os.Root, rel string) error {
	return unlinkAt(root, rel, 0)
}

func unlinkAt(root *os.Root, rel string, flags int) error {
	dirRel, name := splitRel(rel)
	dir, err := root.OpenFile(dirRel, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	rc, err := dir.SyscallConn()
	if err != nil {
		return err
	}
	var uerr error
	cerr := rc.Control(func(fd uintptr) {
		for {
			uerr = unix.Unlinkat(int(fd), name, flags)
			if uerr != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	if uerr != nil {
		return &os.PathError{Op: "unlinkat", Path: rel, Err: uerr}
	}
	return nil
}

// Zero-copy loops. They call sendfile(2) and splice(2) themselves inside
// RawConn callbacks, rather than through TCPConn.ReadFrom/File.ReadFrom,
// for three reasons: the progress counter moves with every system call
// (a slow client shows progress byte by byte, not per chunk); an error is
// known to come from the socket or from the file; and sendfile reads at an
// offset, so REST needs no seek. The netpoller still does the waiting:
// a callback returns false on EAGAIN.
const (
	callMax = 1 << 20 // bytes asked of one splice call; also the pipe size
	// sendMax is asked of one sendfile call. The kernel returns as soon as
	// the socket's buffer is full, so the size only matters while the
	// client keeps up: then a call moves up to sendMax (64 ms at 4 GiB/s,
	// which is how long an abort may wait). Smaller calls cost dearly: every
	// one that lasts over 20 µs makes the Go scheduler hand the thread's P
	// to another thread. With 1 MiB calls one loopback stream ran at 75 %
	// of what the same sendfile does with large calls, and 256 MiB calls
	// cost about 11 % less CPU per GiB than 64 MiB ones (medians of 8
	// alternating rounds, 219 → 194 ms per GiB).
	sendMax = 256 << 20
	// corkMax: downloads up to this size are sent corked (TCP_CORK), so
	// that the FIN leaves with the data. Larger ones are not: one stream
	// of a 1 GiB file cost about 10 % more CPU per GiB corked (8 of 8
	// alternating rounds), and one packet less is nothing to them.
	corkMax  = 64 << 10
	sliceMax = 4 << 20 // bytes one callback moves before it returns: an abort
	// (which closes the socket) takes effect at the next callback even if the
	// peer never makes us wait.
)

// unsupported reports errnos saying the kernel or file system cannot do
// this zero-copy call; the portable copy takes over.
func unsupported(err error) bool {
	return err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP
}

// sendFile sends size bytes of src from off over c with sendfile(2),
// fewer if the file ends sooner. first, when set, is called once, after
// the first sendfile call (at the end when there was none), with the bytes
// sent so far; no send thread is taken before it.
//
// unsent, when positive, bounds the bytes not yet sent that the socket may
// queue (TCP_NOTSENT_LOWAT) while a large send proves its speed: a client
// that reads slowly pins that much kernel memory rather than the autotuned
// send buffer (4 MiB by default). A send that moves sendLiftAfter within
// sendLiftWithin is fast, and the bound is lifted (on a send thread when
// one is free at the start, laneSend; else here): on loopback it cost a
// sixth more CPU per GiB, in wake-ups. A file of at most 2×unsent is sent
// without either system call.
//
// lim, when a bandwidth limit applies, cuts the sends into its slices and
// is paid after each; without one the calls are as large as ever.
func sendFile(c *net.TCPConn, src *source, off, size int64, unsent int, progress *atomic.Int64, first func(sent int64), lim *limiter, lane *laneUse) (int64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, connErr("sendfile", err)
	}
	end := off + size
	var total int64
	var serr error // sendfile's own failure
	eof := false
	cork := size <= corkMax
	bound := unsent > 0 && size > 2*int64(unsent)
	// fast: no bound on unsent bytes, or the bound lifted; a download may
	// take a send thread (lane.go) once the 150 is out, when fast or while
	// it still has time to prove itself; slow: it had one and gave it back.
	fast, slow := !bound, false
	var start time.Time
	if bound {
		start = time.Now()
	}
	for serr == nil && !eof && off < end {
		paced := lim.slice(sliceMax) // 0: no limit
		left := paced
		var werr error // the socket's: closed by abort, ...
		cerr := src.control(func(in uintptr) {
			werr = rc.Write(func(out uintptr) bool {
				if cork {
					// A small file's last, partial segment then waits for
					// the close, and its FIN goes in the same packet: one
					// packet less, and the client reads the data and the
					// end of file together.
					cork = false
					_ = unix.SetsockoptInt(int(out), unix.IPPROTO_TCP, unix.TCP_CORK, 1)
				}
				if unsent > 0 && bound {
					setUnsent(int(out), unsent)
					unsent = 0 // set once
				}
				for moved := 0; moved < sliceMax && off < end; {
					// After the first call (which lets the 150 go), a
					// download takes a thread, if one is free, while it
					// still has time to prove its speed, or once it has:
					// the proof goes on inside the thread, where each wait
					// for the client is the kernel's alone.
					if first == nil && !slow && paced == 0 && end-off >= laneMin && lane != nil &&
						(fast || bound && time.Since(start) < sendLiftWithin) && lane.lanes.take() {
						if bound && total >= sendLiftAfter { // proved already
							setUnsent(int(out), 0)
							fast, bound = true, false
						}
						var prove int64
						if !fast {
							prove = sendLiftAfter - total
						}
						var done, lifted bool
						done, slow, lifted, serr = laneSend(int(out), int(in), &off, end, prove, start.Add(sendLiftWithin), progress, &total, lane)
						lane.lanes.give()
						if lifted {
							fast, bound = true, false
						}
						if slow {
							lane.lanes.slow.Add(1)
						}
						if done {
							eof = off < end
							return true
						}
						if serr != nil {
							return true
						}
						continue // slow: on in the netpoller
					}
					want := min(sendMax, end-off)
					if paced > 0 {
						if left == 0 {
							return true
						}
						want = min(want, int64(left))
					}
					n, err := unix.Sendfile(int(out), int(in), &off, int(want))
					if n > 0 {
						moved += n
						left -= n
						total += int64(n)
						progress.Add(int64(n))
					}
					if first != nil {
						first(total)
						first = nil
					}
					switch {
					case err == unix.EINTR:
					case err == unix.EAGAIN:
						if bound && total >= sendLiftAfter {
							bound = false
							if time.Since(start) < sendLiftWithin {
								setUnsent(int(out), 0) // the system's default: no bound
								fast = true
							}
						}
						return false
					case err != nil:
						serr = err
						return true
					case n == 0:
						eof = true
						return true
					}
				}
				return true
			})
		})
		if cerr != nil {
			return total, storageErr(cerr)
		}
		if werr != nil {
			return total, connErr("sendfile", werr)
		}
		if paced > 0 {
			if err := lim.pay(paced - left); err != nil {
				return total, connErr("sendfile", err)
			}
		}
	}
	if first != nil { // nothing to send
		first(total)
	}
	switch {
	case serr == nil:
		return total, nil
	case unsupported(serr) && total == 0:
		f := src.file()
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return 0, storageErr(err)
		}
		return copyToConn(c, f, end-off, progress, lim)
	case isStorageErrno(serr):
		return total, storageErr(fmt.Errorf("sendfile: %w", serr))
	}
	return total, connErr("sendfile", serr)
}

// laneSend sends the file from *off to end over out with blocking
// sendfile calls of up to laneChunk, while a laneWatch looks at the socket
// every laneTimeout: it credits the progress counter with what the call
// has queued so far, and cuts the call short at its next wait for the
// client when the client took less than laneRate since its last look.
// Each wait lasts at most laneTimeout (SO_SNDTIMEO), so a client that
// takes nothing makes the call return within about two.
//
// When prove is positive the socket's unsent bytes are still bounded
// (setUnsent): prove more bytes must go by the time by, in calls of
// proveStep, and the bound is then lifted (lifted); a client that takes
// them slower is cut short at by and leaves with the bound in place.
//
// It reports done when the file is sent (or ended sooner), slow when a
// call was cut short or the client took nothing for laneTimeout, and
// sendfile's error; the socket is non-blocking again when it returns.
// lane.busy is set while a call may wait: abort then wakes it by shutting
// the socket down (wakeSend) rather than waiting for it; once abort has
// set lane.stop, no call starts.
func laneSend(out, in int, off *int64, end, prove int64, by time.Time, progress *atomic.Int64, total *int64, lane *laneUse) (done, slow, lifted bool, err error) {
	flags, err := unix.FcntlInt(uintptr(out), unix.F_GETFL, 0)
	if err != nil {
		return false, true, false, nil // the netpoller takes it
	}
	// Each wait for the client lasts at most laneTimeout: a call that has
	// been waiting since before the watch cut it short reads the cut's
	// timeout only when its wait ends.
	if setSendTimeout(out, laneTimeout) != nil {
		return false, true, false, nil
	}
	lane.busy.Store(true)
	defer lane.busy.Store(false)
	if _, err := unix.FcntlInt(uintptr(out), unix.F_SETFL, flags&^unix.O_NONBLOCK); err != nil {
		return false, true, false, nil
	}
	defer unix.FcntlInt(uintptr(out), unix.F_SETFL, flags)
	// Nagle's algorithm on while the thread sends (Go turns it off on
	// every connection): each call queues whole segments and leaves no
	// partial one to go out alone. Turning it off again on the way out
	// sends what is left at once, so the file's tail never waits for an
	// acknowledgement.
	if unix.SetsockoptInt(out, unix.IPPROTO_TCP, unix.TCP_NODELAY, 0) == nil {
		defer unix.SetsockoptInt(out, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if reattach := detachNetpoll(out); reattach != nil {
		lane.lanes.detached.Add(1)
		defer func() {
			if rerr := reattach(); rerr != nil && err == nil {
				done, slow, err = false, false, rerr
			}
		}()
	}
	first := laneTimeout
	if prove > 0 {
		first = time.Until(by)
	}
	w := startWatch(out, progress, prove > 0, first)
	defer w.stop()   // before the descriptor can close: no cut reaches it after
	var proved int64 // bytes sent while proving
	for *off < end {
		if lane.stop != nil && lane.stop.Load() {
			return false, false, lifted, unix.EPIPE // aborted: as if woken
		}
		if prove > 0 && !time.Now().Before(by) {
			return false, true, false, nil // not proved in time
		}
		want := min(laneChunk, end-*off)
		if prove > 0 {
			// Calls of a bound's size: progress moves with the bytes
			// while the client may still be slow.
			want = min(prove-proved, end-*off, proveStep)
		}
		w.begin()
		n, err := unix.Sendfile(out, in, off, int(want))
		credited, cut := w.end()
		if n > 0 {
			*total += int64(n)
			progress.Add(int64(n) - credited)
			if prove > 0 {
				proved += int64(n)
			}
		}
		switch {
		case cut: // the watch found the client slow, or the proof failed
			return false, true, lifted, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN: // the client took nothing for laneTimeout
			return false, true, lifted, nil
		case err != nil:
			return false, false, lifted, err
		case n == 0: // the file ended sooner
			return true, false, lifted, nil
		case prove > 0 && proved >= prove:
			if !time.Now().Before(by) {
				return false, true, false, nil
			}
			setUnsent(out, 0) // the system's default: no bound
			w.proved()
			prove, lifted = 0, true
		}
	}
	return true, false, lifted, nil
}

// setSendTimeout sets fd's SO_SNDTIMEO (the kernel rounds d up to a clock
// tick; 0: none).
func setSendTimeout(fd int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
}

// laneWatch looks at a socket in blocking sendfile calls every
// laneTimeout (first after its first period: laneTimeout, or the time
// left to prove the download's speed). A call may run for seconds
// (laneChunk), so the watch reads what it has queued so far from the
// socket (TCP_INFO) and credits the progress counter with it. When the
// client took less than laneRate since the last look, or a proof is still
// running when its time is up, the watch cuts the call short: it sets the
// socket's send timeout to the least there is (a clock tick), and the
// kernel, which reads the timeout afresh for each batch of pages it
// queues, returns what the call has sent at its next wait for the client.
// A client that keeps up is never cut, and one timer serves the whole
// download, not one per call.
type laneWatch struct {
	fd       int
	progress *atomic.Int64
	t        *time.Timer
	mu       sync.Mutex
	stopped  bool
	proving  bool
	calling  bool      // a call is running
	base     int64     // the socket's queued count when it started
	credited int64     // what the watch added to progress for it
	cut      bool      // the watch cut it short
	last     int64     // the queued count at the last look
	lastAt   time.Time // and when
}

// startWatch starts watching fd; first is the first period.
func startWatch(fd int, progress *atomic.Int64, proving bool, first time.Duration) *laneWatch {
	w := &laneWatch{fd: fd, progress: progress, proving: proving, lastAt: time.Now()}
	w.last, _ = queuedBytes(fd)
	w.t = time.AfterFunc(first, w.look)
	return w
}

// begin marks a call about to start.
func (w *laneWatch) begin() {
	q, _ := queuedBytes(w.fd)
	w.mu.Lock()
	w.calling, w.base, w.credited, w.cut = true, q, 0, false
	w.mu.Unlock()
}

// end marks the call ended, and returns what the watch credited to
// progress for it and whether it cut it short.
func (w *laneWatch) end() (credited int64, cut bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calling = false
	return w.credited, w.cut
}

// proved ends the proof: from now on only the rate counts.
func (w *laneWatch) proved() {
	w.mu.Lock()
	w.proving = false
	w.mu.Unlock()
}

// stop ends the watch; no look touches the socket after it returns.
func (w *laneWatch) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.t.Stop()
}

// look is the timer's: it credits progress, judges the client's rate and
// cuts the running call short when the client is slow.
func (w *laneWatch) look() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	now := time.Now()
	if q, ok := queuedBytes(w.fd); ok && w.calling {
		if d := q - w.base - w.credited; d > 0 {
			w.progress.Add(d)
			w.credited += d
		}
		slow := float64(q-w.last) < laneRate*now.Sub(w.lastAt).Seconds()
		if (w.proving || slow) && !w.cut {
			w.cut = true
			_ = setSendTimeout(w.fd, time.Microsecond)
		}
		w.last, w.lastAt = q, now
	}
	w.t.Reset(laneTimeout)
}

// queuedBytes returns how many bytes of data the socket has been given to
// send in all: sent once, not counting retransmissions, or still unsent.
func queuedBytes(fd int) (int64, bool) {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	return int64(ti.Bytes_sent) - int64(ti.Bytes_retrans) + int64(ti.Notsent_bytes), true
}

// wakeSend shuts c down, which makes a blocking sendfile on it return at
// once (EPIPE).
func wakeSend(c *net.TCPConn) {
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Shutdown(int(fd), unix.SHUT_RDWR) })
	}
}

// spliceFile receives c into f at f's offset until EOF, through a pipe
// with splice(2): socket → pipe, pipe → file. check, when set, runs
// before every splice into the file and stops the copy with its error.
// lim, when a bandwidth limit applies, cuts the reads into its slices and
// is paid after each.
//
// Without a bandwidth limit the first headMax bytes are read and written
// (readHead): an upload that ends there needs no pipe.
//
// The socket wakes its reader for whatever has arrived (no SO_RCVLOWAT).
// Making a fast upload wait until a pipe's worth (1 MiB) had queued cut
// its wake-ups eightfold, but in 62 paired 1 GiB uploads by curl and lftp
// (client on the server's CPU or the other) it spent more server CPU in
// 45 (by the medians of eight sets, 7 to 30 % more in seven, 11 % less in
// one): bytes taken as they come are still in the cache.
func spliceFile(f *os.File, c *net.TCPConn, progress *atomic.Int64, check func() error, lim *limiter) (int64, error) {
	var head int64
	if lim.slice(headMax) == 0 {
		n, eof, err := readHead(f, c, progress, check)
		if eof || err != nil {
			return n, err
		}
		head = n
	}
	n, err := splicePipe(f, c, progress, check, lim)
	return head + n, err
}

// readHead moves the first headMax bytes of c into f with read(2) and
// write(2), each read's bytes written at once as splice would move them.
// eof reports that the client's data ended within them: the upload is
// complete.
func readHead(f *os.File, c *net.TCPConn, progress *atomic.Int64, check func() error) (total int64, eof bool, err error) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	b := (*buf)[:min(headMax, len(*buf))]
	for total < int64(len(b)) {
		n, rerr := c.Read(b[:len(b)-int(total)])
		if n > 0 {
			if check != nil {
				if err := check(); err != nil {
					return total, false, storageErr(err)
				}
			}
			m, werr := f.Write(b[:n])
			total += int64(m)
			progress.Add(int64(m))
			if werr != nil {
				return total, false, storageErr(werr)
			}
		}
		switch {
		case rerr == io.EOF:
			return total, true, nil
		case rerr != nil:
			return total, false, connErr("read", rerr)
		}
	}
	return total, false, nil
}

// splicePipe is spliceFile's splice loop.
func splicePipe(f *os.File, c *net.TCPConn, progress *atomic.Int64, check func() error, lim *limiter) (int64, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return copyFromConn(f, c, progress, check, lim) // out of descriptors: copy instead
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, callMax) // a bigger pipe if allowed
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, connErr("splice", err)
	}
	fc, err := f.SyscallConn()
	if err != nil {
		return 0, storageErr(err)
	}
	var total int64
	var sockErr, fileErr, checkErr error
	pending := 0 // bytes in the pipe
	eof := false
	for !eof && sockErr == nil && fileErr == nil && checkErr == nil {
		paced := lim.slice(sliceMax) // 0: no limit
		left := paced
		var rerr error // the socket's wait: closed by abort, ...
		cerr := fc.Control(func(out uintptr) {
			rerr = rc.Read(func(in uintptr) bool {
				for moved := 0; moved < sliceMax; {
					want := callMax
					if paced > 0 {
						if left == 0 {
							return true
						}
						want = min(want, left)
					}
					n, err := unix.Splice(int(in), nil, p[1], nil, want, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
					switch {
					case err == unix.EINTR:
						continue
					case err == unix.EAGAIN: // the socket is empty: wait
						return false
					case err != nil:
						sockErr = err
						return true
					case n == 0:
						eof = true
						return true
					}
					pending = int(n)
					left -= int(n)
					if check != nil {
						if checkErr = check(); checkErr != nil {
							return true
						}
					}
					for pending > 0 {
						m, err := unix.Splice(p[0], nil, int(out), nil, pending, unix.SPLICE_F_MOVE)
						if m > 0 {
							pending -= int(m)
							moved += int(m)
							total += int64(m)
							progress.Add(int64(m))
						}
						switch {
						case err == unix.EINTR:
						case err != nil:
							fileErr = err
							return true
						case m == 0:
							fileErr = io.ErrShortWrite
							return true
						}
					}
				}
				return true
			})
		})
		if cerr != nil {
			return total, storageErr(cerr)
		}
		if rerr != nil {
			return total, connErr("splice", rerr)
		}
		if paced > 0 {
			if err := lim.pay(paced - left); err != nil {
				return total, connErr("splice", err)
			}
		}
	}
	switch {
	case checkErr != nil:
		return total, storageErr(checkErr)
	case sockErr != nil && unsupported(sockErr) && total == 0 && pending == 0:
		return copyFromConn(f, c, progress, check, lim)
	case sockErr != nil:
		return total, connErr("splice", sockErr)
	case fileErr != nil && unsupported(fileErr):
		// The file system cannot take splice: empty the pipe by hand and
		// copy the rest.
		n, err := drainPipe(f, p[0], pending, progress)
		total += n
		if err != nil {
			return total, err
		}
		n, err = copyFromConn(f, c, progress, check, lim)
		return total + n, err
	case fileErr != nil:
		return total, storageErr(fmt.Errorf("splice: %w", fileErr))
	}
	return total, nil
}

// drainPipe writes the n bytes waiting in the pipe rfd to f.
func drainPipe(f *os.File, rfd, n int, progress *atomic.Int64) (int64, error) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	var total int64
	for n > 0 {
		r, err := unix.Read(rfd, (*buf)[:min(n, len(*buf))])
		if err == unix.EINTR {
			continue
		}
		if err != nil || r <= 0 {
			return total, storageErr(fmt.Errorf("read pipe: %w", err))
		}
		if _, err := f.Write((*buf)[:r]); err != nil {
			return total, storageErr(err)
		}
		n -= r
		total += int64(r)
		progress.Add(int64(r))
	}
	return total, nil
}

// ephemeralRange reads the kernel's ephemeral port range (0, 0 if unknown).
func ephemeralRange() (uint16, uint16) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	var lo, hi uint16
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil || lo == 0 || hi < lo {
		return 0, 0
	}
	return lo, hi
}

// canReuseListeners: drain works here, so passive listeners are pooled.
const canReuseListeners = true

// drainMax bounds the connections drain closes: past it, connections keep
// coming and the listener is given up instead.
const drainMax = 4096

// tcpListen is TCP_LISTEN of the kernel's tcp_states.h, as TCP_INFO reports
// a listening socket's state.
const tcpListen = 10

// quiet reports whether no connection waits in ln's accept queue, from one
// getsockopt(TCP_INFO): for a listening socket the kernel reports the
// queue's length as tcpi_unacked. It accepts nothing, so it may run on
// the event loop.
func quiet(ln syscall.Conn) bool {
	return onListener(ln, func(fd int) bool {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		return err == nil && info.State == tcpListen && info.Unacked == 0
	})
}

// onListener runs f on ln's descriptor and reports what f reported; false
// when ln is closed.
func onListener(ln syscall.Conn, f func(fd int) bool) bool {
	rc, err := ln.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	err = rc.Control(func(fd uintptr) { ok = f(int(fd)) })
	return ok && err == nil
}

// drain accepts and closes every connection waiting on ln, without
// blocking (the socket is non-blocking: accept4 ends with EAGAIN). It
// reports false when ln should not be used any more.
func drain(ln syscall.Conn) bool {
	return onListener(ln, func(fd int) bool {
		for range drainMax {
			nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			switch err {
			case nil:
				unix.Close(nfd)
			case unix.EINTR, unix.ECONNABORTED:
			case unix.EAGAIN:
				return true
			default:
				return false
			}
		}
		return false
	})
}

// openDescriptors counts the descriptors the process has open (0 when
// /proc cannot tell).
func openDescriptors() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0
	}
	return max(len(names)-1, 0) // less the one reading it
}

// A download that moves sendLiftAfter bytes within sendLiftWithin of its
// start (8 MiB/s) is fast: its bound on unsent bytes is lifted (sendFile).
// Until then each wake-up moves about half the bound: in the netpoller,
// on loopback, 0.6 ms of server CPU per MiB against 0.14 once lifted, so
// the proof is kept short: with 16 MiB it was 10 of the 152 ms per GiB
// that a download by wget cost, and vsftpd, which bounds nothing, spent
// 4 % less.
const sendLiftAfter = 4 << 20

// proveStep is asked of one blocking call while a download proves its
// speed on a send thread: about what the bound lets the socket queue.
const proveStep = 256 << 10

var sendLiftWithin = 500 * time.Millisecond // a variable for tests

// setUnsent bounds the bytes not yet sent that a socket may queue: a
// client that reads slowly then pins that much kernel memory (plus what
// it has acknowledged room for), not the autotuned send buffer. Data in
// flight is not bounded, so a fast long-distance link keeps its speed.
func setUnsent(fd, n int) {
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n)
}

// limitUnsent is setUnsent for a connection (n <= 0: no bound).
func limitUnsent(c *net.TCPConn, n int) {
	if n <= 0 {
		return
	}
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { setUnsent(int(fd), n) })
	}
}

// syncData writes f's data, and the metadata needed to read it back (its
// size), to stable storage: fdatasync(2).
func syncData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			err = unix.Fdatasync(int(fd))
			if err != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	return nil
}

// dropCache asks the kernel to drop f's clean cached pages
// (POSIX_FADV_DONTNEED); pages in use or not yet written stay.
func dropCache(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _ = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED) })
	}
}
