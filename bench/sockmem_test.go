// Tests of the sockstat and sock_diag parsers, and of a dump of this process's own sockets.
package bench

import (
	"encoding/binary"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sockstat = `sockets: used 2061
TCP: inuse 2008 orphan 0 tw 12 alloc 2010 mem 74213
UDP: inuse 0 mem 0
UDPLITE: inuse 0
RAW: inuse 0
FRAG: inuse 0 memory 0
`

func TestParseSockstat(t *testing.T) {
	s, err := ParseSockstat(strings.NewReader(sockstat))
	if err != nil || s != (Sockstat{InUse: 2008, Orphan: 0, TimeWait: 12, Alloc: 2010, MemPages: 74213}) {
		t.Errorf("got %+v, %v", s, err)
	}
	for name, in := range map[string]string{
		"no TCP line":  "sockets: used 1\nUDP: inuse 0 mem 0\n",
		"no mem":       "TCP: inuse 1 orphan 0\n",
		"odd fields":   "TCP: inuse 1 mem\n",
		"not a number": "TCP: inuse 1 mem x\n",
		"negative":     "TCP: inuse 1 mem -4\n",
	} {
		if _, err := ParseSockstat(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
}

func TestParseTCPMem(t *testing.T) {
	if l, p, h, err := ParseTCPMem("287892\t383858\t575784\n"); err != nil || l != 287892 || p != 383858 || h != 575784 {
		t.Errorf("got %d %d %d, %v", l, p, h, err)
	}
	for _, bad := range []string{"", "1 2", "1 2 x", "1 2 3 4", "1 -2 3"} {
		if _, _, _, err := ParseTCPMem(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseNetstat(t *testing.T) {
	const netstat = "TcpExt: SyncookiesSent TCPMemoryPressures TCPMemoryPressuresChrono TCPAbortOnMemory\n" +
		"TcpExt: 0 3 33176 0\n" +
		"IpExt: InNoRoutes InTruncatedPkts\n" +
		"IpExt: 0 0\n"
	m, err := ParseNetstat(strings.NewReader(netstat))
	if err != nil || len(m) != 4 || m["TCPMemoryPressures"] != 3 || m["TCPMemoryPressuresChrono"] != 33176 {
		t.Errorf("got %v, %v", m, err)
	}
	for name, in := range map[string]string{
		"no values":  "TcpExt: A B\n",
		"count":      "TcpExt: A B\nTcpExt: 1\n",
		"not number": "TcpExt: A\nTcpExt: x\n",
		"no TcpExt":  "IpExt: A\nIpExt: 1\n",
	} {
		if _, err := ParseNetstat(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
	if runtime.GOOS == "linux" {
		if _, err := ReadTCPPressure("/proc"); err != nil {
			t.Errorf("this system's counters: %v", err)
		}
	}
}

// diagMsg builds one netlink message of a sock_diag dump: a socket with
// the given queues, and its skmem and tcp_info attributes when mem is set.
func diagMsg(inode uint32, state uint8, rq, wq uint32, mem *[9]uint32, notsent uint32) []byte {
	ne := binary.NativeEndian
	body := make([]byte, inetDiagMsgLen)
	body[0], body[1] = syscall.AF_INET, state
	ne.PutUint32(body[56:], rq)
	ne.PutUint32(body[60:], wq)
	ne.PutUint32(body[68:], inode)
	attr := func(typ uint16, data []byte) {
		a := make([]byte, align4(4+len(data)))
		ne.PutUint16(a, uint16(4+len(data)))
		ne.PutUint16(a[2:], typ)
		copy(a[4:], data)
		body = append(body, a...)
	}
	if mem != nil {
		m := make([]byte, 4*len(mem))
		for i, v := range mem {
			ne.PutUint32(m[4*i:], v)
		}
		attr(inetDiagSkMemInfo, m)
		info := make([]byte, 230) // a tcp_info of some kernel, not a multiple of 4
		ne.PutUint32(info[tcpiNotsentOffset:], notsent)
		attr(inetDiagInfo, info)
		attr(99, []byte{1, 2, 3}) // unknown: skipped
	}
	return nlMsg(sockDiagByFamily, body)
}

func nlMsg(typ uint16, body []byte) []byte {
	ne := binary.NativeEndian
	m := make([]byte, align4(nlmsgHdrLen+len(body)))
	ne.PutUint32(m, uint32(nlmsgHdrLen+len(body)))
	ne.PutUint16(m[4:], typ)
	copy(m[nlmsgHdrLen:], body)
	return m
}

func TestParseDiag(t *testing.T) {
	// rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog, drops
	mem := [9]uint32{100, 131072, 0, 2626560, 3000, 400000, 0, 0, 0}
	var got []SockInfo
	var d []byte
	d = append(d, diagMsg(11, 1, 0, 330000, &mem, 262144)...) // ESTABLISHED
	d = append(d, diagMsg(12, 1, 7, 0, nil, 0)...)
	d = append(d, diagMsg(13, tcpListen, 2, 4096, nil, 0)...) // accept queue and backlog
	done, err := ParseDiag(d, func(s SockInfo) { got = append(got, s) })
	if err != nil || done || len(got) != 3 {
		t.Fatalf("got %+v, done %v, %v", got, done, err)
	}
	want := SockInfo{Inode: 11, State: 1, WQueue: 330000, Unsent: 262144, RMemAlloc: 100, WMemQueued: 400000, FwdAlloc: 3000}
	if got[0] != want || got[0].Mem() != 403100 {
		t.Errorf("first socket %+v (mem %d), want %+v (403100)", got[0], got[0].Mem(), want)
	}
	if got[1] != (SockInfo{Inode: 12, State: 1, RQueue: 7}) {
		t.Errorf("second socket %+v", got[1])
	}
	var m SockMem
	for _, s := range got {
		m.add(s)
	}
	if m != (SockMem{Sockets: 3, Mem: 403100, Queued: 330000, Unsent: 262144, Unread: 7, Sending: 1}) {
		t.Errorf("sum %+v", m)
	}

	done, err = ParseDiag(nlMsg(nlmsgDone, make([]byte, 4)), func(SockInfo) { t.Error("a socket in DONE") })
	if !done || err != nil {
		t.Errorf("DONE: %v, %v", done, err)
	}
	e := make([]byte, 4)
	eperm := -int32(syscall.EPERM)
	binary.NativeEndian.PutUint32(e, uint32(eperm))
	if done, err := ParseDiag(nlMsg(nlmsgError, e), nil); !done || err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Errorf("error message: %v, %v", done, err)
	}
	for name, b := range map[string][]byte{
		"short header":     make([]byte, 8),
		"length too large": nlMsg(sockDiagByFamily, make([]byte, inetDiagMsgLen))[:40],
		"short socket":     nlMsg(sockDiagByFamily, make([]byte, 20)),
		"bad attribute":    nlMsg(sockDiagByFamily, append(make([]byte, inetDiagMsgLen), 200, 0, 7, 0)),
	} {
		if _, err := ParseDiag(b, func(SockInfo) {}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseSocketLink(t *testing.T) {
	for in, want := range map[string]uint32{"socket:[123456]": 123456, "socket:[0]": 0} {
		if got, ok := parseSocketLink(in); !ok || got != want {
			t.Errorf("%q: %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"pipe:[5]", "/dev/null", "socket:[x]", "socket:[12", "anon_inode:[eventpoll]"} {
		if _, ok := parseSocketLink(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// This process's own connection, written to and not read, shows in the
// dump: the receiving socket holds unread bytes, and both are counted.
func TestServerSocketsOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sock_diag is Linux's")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(make([]byte, 100000)); err != nil {
		t.Fatal(err)
	}
	var m SockMem
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m, err = ServerSockets("/proc", os.Getpid()); err != nil {
			t.Fatal(err)
		}
		if m.Unread >= 100000 {
			break
		}
	}
	t.Logf("this process's sockets: %+v", m)
	// The listener and both ends; other tests may hold more.
	if m.Sockets < 3 || m.Unread < 100000 || m.Mem < 100000 {
		t.Errorf("this process's sockets: %+v; want at least 3, 100,000 bytes unread and as much memory", m)
	}
	st, err := ReadSockstat("/proc")
	if err != nil || st.InUse < 3 {
		t.Errorf("sockstat %+v, %v", st, err)
	}
}
