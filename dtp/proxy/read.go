// Reading a header from a connection without taking a byte that follows it.
package proxy

import (
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Read reads the PROXY header a connection starts with, by the deadline,
// and leaves every byte after it unread. It peeks (MSG_PEEK) until Frame
// finds the header's end, then reads exactly that much.
func Read(c *net.TCPConn, deadline time.Time) (Header, error) {
	if err := c.SetReadDeadline(deadline); err != nil {
		return Header{}, err
	}
	defer c.SetReadDeadline(time.Time{})
	rc, err := c.SyscallConn()
	if err != nil {
		return Header{}, err
	}
	buf := make([]byte, MaxLen)
	var n int
	var ferr error
	err = rc.Read(func(fd uintptr) bool {
		m, _, e := unix.Recvfrom(int(fd), buf, unix.MSG_PEEK)
		switch {
		case e == unix.EAGAIN || e == unix.EINTR:
			return false // wait for bytes
		case e != nil:
			ferr = e
			return true
		case m == 0:
			ferr = io.ErrUnexpectedEOF
			return true
		}
		n, ferr = Frame(buf[:m])
		if ferr != nil || n > 0 {
			return true
		}
		// A beginning: wait for more (the poller reports new bytes).
		return false
	})
	if err != nil {
		return Header{}, err
	}
	if ferr != nil {
		return Header{}, ferr
	}
	if _, err := io.ReadFull(c, buf[:n]); err != nil {
		return Header{}, err
	}
	return Parse(buf[:n])
}
