// A small download ends in one packet: its data and the FIN together.
package dtp

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// The client of a 4 KiB download receives two segments in all: the
// handshake's SYN-ACK, then the file with the FIN. Without the cork the
// FIN came in a third.
func TestDownloadFINWithData(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(4096, 74)
	e.write("f", data)
	for i := range 20 {
		addr := e.pasv()
		c := dialFrom(t, "127.0.0.1", addr)
		if got := e.retrOver(c, "f"); !bytes.Equal(got, data) {
			t.Fatalf("round %d: got %d bytes, want the %d of the file", i, len(got), len(data))
		}
		rc, err := c.SyscallConn()
		mustOK(t, err)
		var info *unix.TCPInfo
		var ierr error
		mustOK(t, rc.Control(func(fd uintptr) {
			info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		}))
		mustOK(t, ierr)
		if info.Segs_in != 2 || info.Data_segs_in != 1 {
			t.Fatalf("round %d: the client received %d segments, %d with data; want 2 and 1",
				i, info.Segs_in, info.Data_segs_in)
		}
		c.Close()
	}
}
