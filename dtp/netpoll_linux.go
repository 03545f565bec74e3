// Taking a socket out of Go's netpoller while a send thread waits on it in a blocking call, and putting it back.
package dtp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Go registers every socket of the net package in its netpoller's epoll
// instance, edge-triggered for reading and writing. A download on a send
// thread (lane.go) waits in blocking sendfile calls, and each time the
// client frees room in the send buffer the kernel wakes that call and
// also reports EPOLLOUT to the netpoller, though no goroutine waits
// there: a thread of the runtime parked in epoll_pwait wakes, finds
// nothing to run and parks again. A 1 GiB download by wget made 600 such
// wake-ups (1,231 epoll_pwait calls against 42 sendfile calls), each two
// context switches on a CPU the client shares; vsftpd, which has no
// netpoller, spent 4 % less CPU per GiB.
//
// So for the time of the blocking calls the socket leaves the runtime's
// epoll instance (EPOLL_CTL_DEL) and is then added back with the very
// events and data the runtime registered (EPOLL_CTL_ADD), read from
// /proc/self/fdinfo. The runtime never modifies a registration between
// its open and its close, and the transfer's goroutine holds the socket
// (inside SyscallConn's Write) for the whole time, so nothing closes it
// meanwhile. Edge-triggered readiness is reported again when it is added
// back, so nothing waiting on it is lost. Where any step fails the socket
// simply stays registered, as before.

// goEpoll is the netpoller's epoll descriptor once found (-1 before, -2
// when a search found none). The search reads every descriptor of the
// process, so it runs once, under searching.
var (
	goEpoll   atomic.Int32
	searching sync.Mutex
)

func init() { goEpoll.Store(-1) }

// pollEntry is one registration, as /proc/self/fdinfo of an epoll
// descriptor lists it.
type pollEntry struct {
	events uint32
	data   uint64
	ino    uint64
}

// epollEntry reads the fdinfo text of an epoll descriptor up to the
// registration of fd and returns it, if any: the netpoller lists every
// socket and listener the net package has open, so the reading stops
// there, and the kernel makes no more of the text than was read.
// "tfd:       17 events: 8000201d data: 3fae50c0dd000001  pos:0 ino:266916a sdev:9"
func epollEntry(fdinfo io.Reader, fd int) (pollEntry, bool) {
	want := strconv.Itoa(fd)
	sc := bufio.NewScanner(fdinfo)
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) < 6 || string(f[0]) != "tfd:" || string(f[1]) != want || string(f[2]) != "events:" || string(f[4]) != "data:" {
			continue
		}
		ev, err1 := strconv.ParseUint(string(f[3]), 16, 32)
		data, err2 := strconv.ParseUint(string(f[5]), 16, 64)
		if err1 != nil || err2 != nil {
			return pollEntry{}, false
		}
		e := pollEntry{events: uint32(ev), data: data}
		for _, kv := range f[6:] {
			if v, ok := bytes.CutPrefix(kv, []byte("ino:")); ok {
				e.ino, _ = strconv.ParseUint(string(v), 16, 64)
			}
		}
		return e, true
	}
	return pollEntry{}, false
}

// registration returns fd's entry in the epoll instance epfd.
func registration(epfd, fd int) (pollEntry, bool) {
	f, err := os.Open("/proc/self/fdinfo/" + strconv.Itoa(epfd))
	if err != nil {
		return pollEntry{}, false
	}
	defer f.Close()
	return epollEntry(f, fd)
}

// findNetpoll returns the epoll descriptor in which fd is registered:
// the netpoller's, since gnet's holds only control connections. Once
// that descriptor is known only its list is read.
func findNetpoll(fd int) (epfd int, e pollEntry, ok bool) {
	ep := int(goEpoll.Load())
	if ep == -1 {
		searching.Lock()
		if ep = int(goEpoll.Load()); ep == -1 {
			ep = searchNetpoll(fd)
			goEpoll.Store(int32(ep))
		}
		searching.Unlock()
	}
	if ep < 0 {
		return -1, pollEntry{}, false
	}
	if e, ok := registration(ep, fd); ok {
		return ep, e, true
	}
	return -1, pollEntry{}, false
}

// searchNetpoll returns the eventpoll descriptor whose list holds fd, or -2.
func searchNetpoll(fd int) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -2
	}
	for _, d := range ents {
		ep, err := strconv.Atoi(d.Name())
		if err != nil || ep == fd {
			continue
		}
		if l, err := os.Readlink("/proc/self/fd/" + d.Name()); err != nil || l != "anon_inode:[eventpoll]" {
			continue
		}
		if _, ok := registration(ep, fd); ok {
			return ep
		}
	}
	return -2
}

// detachNetpoll takes the socket fd out of the netpoller's epoll
// instance and returns the call that puts it back; nil when it stays (it
// could not be found, or is not the socket it was registered as).
func detachNetpoll(fd int) (reattach func() error) {
	epfd, e, ok := findNetpoll(fd)
	if !ok {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Ino != e.ino {
		return nil
	}
	if unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, fd, nil) != nil {
		return nil
	}
	return func() error {
		ev := unix.EpollEvent{Events: e.events}
		// The event's data is a 64-bit union after Events; x/sys splits
		// it into Fd and Pad (with padding before it where the ABI has
		// it), so it is written whole.
		*(*uint64)(unsafe.Pointer(&ev.Fd)) = e.data
		err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("dtp: netpoller: add back socket %d: %w", fd, err)
		}
		return nil
	}
}
