// Kernel TCP memory: the system-wide count in /proc/net/sockstat, and the send and receive queues of one server's sockets from sock_diag.
package bench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sockstat is the TCP line of /proc/net/sockstat:
//
//	TCP: inuse 8 orphan 0 tw 8 alloc 8 mem 1312
type Sockstat struct {
	InUse, Orphan, TimeWait, Alloc int64
	// MemPages is what every TCP socket of the network namespace has
	// charged to buffers, in pages (the unit of net.ipv4.tcp_mem). Since
	// Linux 6.0 each CPU keeps up to 1 MiB of it in a reserve of its own,
	// so it moves in steps and is exact only to a megabyte per CPU.
	MemPages int64
}

// ParseSockstat reads the TCP line of a /proc/net/sockstat file.
func ParseSockstat(r io.Reader) (Sockstat, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "TCP:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f)%2 != 0 {
			return Sockstat{}, fmt.Errorf("bench: sockstat: malformed line %q", sc.Text())
		}
		var s Sockstat
		found := false
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil || v < 0 {
				return Sockstat{}, fmt.Errorf("bench: sockstat: malformed line %q", sc.Text())
			}
			switch f[i] {
			case "inuse":
				s.InUse = v
			case "orphan":
				s.Orphan = v
			case "tw":
				s.TimeWait = v
			case "alloc":
				s.Alloc = v
			case "mem":
				s.MemPages, found = v, true
			}
		}
		if !found {
			return Sockstat{}, fmt.Errorf("bench: sockstat: no mem in %q", sc.Text())
		}
		return s, nil
	}
	if err := sc.Err(); err != nil {
		return Sockstat{}, fmt.Errorf("bench: sockstat: %w", err)
	}
	return Sockstat{}, errors.New("bench: sockstat: no TCP line")
}

// ReadSockstat reads procRoot/net/sockstat.
func ReadSockstat(procRoot string) (Sockstat, error) {
	f, err := os.Open(filepath.Join(procRoot, "net", "sockstat"))
	if err != nil {
		return Sockstat{}, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	return ParseSockstat(f)
}

// ParseTCPMem reads net.ipv4.tcp_mem (/proc/sys/net/ipv4/tcp_mem): the
// pages of TCP memory below which the kernel does not bother, above which
// it holds buffers down (pressure), and beyond which it refuses them.
func ParseTCPMem(s string) (low, pressure, high int64, err error) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return 0, 0, 0, fmt.Errorf("bench: tcp_mem: malformed %q", s)
	}
	var v [3]int64
	for i := range f {
		if v[i], err = strconv.ParseInt(f[i], 10, 64); err != nil || v[i] < 0 {
			return 0, 0, 0, fmt.Errorf("bench: tcp_mem: malformed %q", s)
		}
	}
	return v[0], v[1], v[2], nil
}

// ReadTCPMem reads procRoot/sys/net/ipv4/tcp_mem (see ParseTCPMem).
func ReadTCPMem(procRoot string) (low, pressure, high int64, err error) {
	b, err := os.ReadFile(filepath.Join(procRoot, "sys", "net", "ipv4", "tcp_mem"))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bench: %w", err)
	}
	return ParseTCPMem(string(b))
}

// TCPPressure is what /proc/net/netstat counts of the kernel's TCP memory
// pressure (net.ipv4.tcp_mem), system-wide since boot.
type TCPPressure struct {
	Entered int64         `json:"entered"`  // TCPMemoryPressures: times pressure began
	Spent   time.Duration `json:"spent_ns"` // TCPMemoryPressuresChrono: time under pressure
}

// ParseNetstat reads the TcpExt counters of a /proc/net/netstat file: a
// line of names, then a line of values, each starting "TcpExt:".
func ParseNetstat(r io.Reader) (map[string]int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	var names []string
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "TcpExt:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			continue
		}
		if len(f) != len(names) {
			return nil, fmt.Errorf("bench: netstat: %d TcpExt names, %d values", len(names), len(f))
		}
		out := make(map[string]int64, len(f))
		for i, v := range f {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bench: netstat: %s = %q", names[i], v)
			}
			out[names[i]] = n
		}
		return out, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("bench: netstat: %w", err)
	}
	return nil, errors.New("bench: netstat: no TcpExt values")
}

// ReadTCPPressure reads the pressure counters from procRoot/net/netstat.
func ReadTCPPressure(procRoot string) (TCPPressure, error) {
	f, err := os.Open(filepath.Join(procRoot, "net", "netstat"))
	if err != nil {
		return TCPPressure{}, fmt.Errorf("bench: %w", err)
	}
	defer f.Close()
	m, err := ParseNetstat(f)
	if err != nil {
		return TCPPressure{}, err
	}
	n, ok := m["TCPMemoryPressures"]
	ms, ok2 := m["TCPMemoryPressuresChrono"]
	if !ok || !ok2 {
		return TCPPressure{}, errors.New("bench: netstat: no TCPMemoryPressures counters")
	}
	return TCPPressure{Entered: n, Spent: time.Duration(ms) * time.Millisecond}, nil
}

// SockInfo is one TCP socket as sock_diag (NETLINK_SOCK_DIAG) reports it.
type SockInfo struct {
	Inode uint32
	State uint8 // TCP_ESTABLISHED is 1, TCP_LISTEN 10
	// RQueue and WQueue: for a connected socket, the bytes received and not
	// yet read, and the bytes not yet acknowledged (in flight and unsent);
	// for a listener, its accept queue and backlog, counted in nothing.
	RQueue, WQueue uint32
	// Unsent is tcp_info's tcpi_notsent_bytes: written, not yet sent.
	Unsent uint32
	// The skmem figures (SK_MEMINFO_*), in bytes: the receive queue's
	// allocation, the send queues' (written and in flight), and memory
	// charged ahead of use.
	RMemAlloc, WMemQueued, FwdAlloc uint32
}

// Mem is the kernel memory the socket holds against net.ipv4.tcp_mem:
// what its queues take and what it has reserved ahead of use.
func (s SockInfo) Mem() int64 {
	return int64(s.RMemAlloc) + int64(s.WMemQueued) + int64(s.FwdAlloc)
}

// The netlink and sock_diag numbers ParseDiag needs (linux/netlink.h,
// linux/sock_diag.h, linux/inet_diag.h).
const (
	nlmsgHdrLen       = 16
	nlmsgError        = 2
	nlmsgDone         = 3
	sockDiagByFamily  = 20
	inetDiagMsgLen    = 72
	inetDiagInfo      = 2 // attribute: struct tcp_info
	inetDiagSkMemInfo = 7 // attribute: u32[SK_MEMINFO_VARS]
	nlaTypeMask       = 0x3fff
	tcpiNotsentOffset = 144 // tcpi_notsent_bytes in struct tcp_info (Linux 4.6+)
	skMemRmemAlloc    = 0
	skMemFwdAlloc     = 4
	skMemWmemQueued   = 5
	tcpListen         = 10
)

// ParseDiag reads one datagram of a sock_diag dump, calling fn for each
// socket in it; done is true at the dump's end (NLMSG_DONE, or an error
// message, returned as the error). Numbers are in the host's byte order.
func ParseDiag(b []byte, fn func(SockInfo)) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return true, fmt.Errorf("bench: sock_diag: %d bytes left, less than a message header", len(b))
		}
		l := int(ne.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return true, fmt.Errorf("bench: sock_diag: message of %d bytes in %d", l, len(b))
		}
		body := b[nlmsgHdrLen:l]
		switch ne.Uint16(b[4:]) {
		case nlmsgDone:
			return true, nil
		case nlmsgError:
			if len(body) < 4 {
				return true, errors.New("bench: sock_diag: short error message")
			}
			if e := int32(ne.Uint32(body)); e != 0 {
				return true, fmt.Errorf("bench: sock_diag: %w", syscall.Errno(-e))
			}
		case sockDiagByFamily:
			s, err := parseDiagMsg(body)
			if err != nil {
				return true, err
			}
			fn(s)
		}
		b = b[min(len(b), align4(l)):]
	}
	return false, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// parseDiagMsg reads a struct inet_diag_msg and its attributes.
func parseDiagMsg(b []byte) (SockInfo, error) {
	ne := binary.NativeEndian
	if len(b) < inetDiagMsgLen {
		return SockInfo{}, fmt.Errorf("bench: sock_diag: socket message of %d bytes", len(b))
	}
	s := SockInfo{
		State:  b[1],
		RQueue: ne.Uint32(b[56:]),
		WQueue: ne.Uint32(b[60:]),
		Inode:  ne.Uint32(b[68:]),
	}
	for a := b[inetDiagMsgLen:]; len(a) >= 4; {
		l := int(ne.Uint16(a))
		if l < 4 || l > len(a) {
			return SockInfo{}, fmt.Errorf("bench: sock_diag: attribute of %d bytes in %d", l, len(a))
		}
		data := a[4:l]
		switch ne.Uint16(a[2:]) & nlaTypeMask {
		case inetDiagSkMemInfo:
			u := func(i int) uint32 {
				if 4*i+4 > len(data) {
					return 0
				}
				return ne.Uint32(data[4*i:])
			}
			s.RMemAlloc, s.WMemQueued, s.FwdAlloc = u(skMemRmemAlloc), u(skMemWmemQueued), u(skMemFwdAlloc)
		case inetDiagInfo:
			if len(data) >= tcpiNotsentOffset+4 {
				s.Unsent = ne.Uint32(data[tcpiNotsentOffset:])
			}
		}
		a = a[min(len(a), align4(l)):]
	}
	return s, nil
}

// SockMem sums the TCP sockets of a process tree.
type SockMem struct {
	Sockets int   `json:"sockets"`
	Mem     int64 `json:"mem"`     // kernel memory: queues and forward allocations (SockInfo.Mem)
	Queued  int64 `json:"queued"`  // bytes in send queues: in flight and unsent
	Unsent  int64 `json:"unsent"`  // bytes not yet sent
	Unread  int64 `json:"unread"`  // bytes received and not yet read
	Sending int   `json:"sending"` // sockets with bytes in their send queue
}

// add counts s.
func (m *SockMem) add(s SockInfo) {
	m.Sockets++
	m.Mem += s.Mem()
	if s.State == tcpListen {
		return
	}
	m.Queued += int64(s.WQueue)
	m.Unsent += int64(s.Unsent)
	m.Unread += int64(s.RQueue)
	if s.WQueue > 0 {
		m.Sending++
	}
}

// parseSocketLink returns the inode of a /proc/PID/fd link "socket:[N]".
func parseSocketLink(link string) (uint32, bool) {
	rest, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 32)
	return uint32(n), err == nil
}

// socketInodes returns the inodes of the sockets the processes pids hold
// open, read from procRoot/PID/fd. Processes and descriptors that vanish
// while it reads are skipped.
func socketInodes(procRoot string, pids []int) map[uint32]bool {
	out := map[uint32]bool{}
	for _, p := range pids {
		dir := filepath.Join(procRoot, strconv.Itoa(p), "fd")
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			link, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil {
				continue
			}
			if ino, ok := parseSocketLink(link); ok {
				out[ino] = true
			}
		}
	}
	return out
}

// ServerSockets sums the TCP sockets that pid and its descendants hold
// open, as sock_diag reports them (Linux only).
func ServerSockets(procRoot string, pid int) (SockMem, error) {
	pids, err := Descendants(procRoot, pid)
	if err != nil {
		return SockMem{}, err
	}
	inodes := socketInodes(procRoot, pids)
	var m SockMem
	err = dumpTCP(func(s SockInfo) {
		if s.Inode != 0 && inodes[s.Inode] {
			m.add(s)
		}
	})
	return m, err
}
