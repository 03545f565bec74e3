// Data connections (EPSV, PASV, PORT) and transfers: RETR into a sink, STOR from a file with sendfile, listings.
package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/zlib"
)

// DataMode selects how data connections are set up.
type DataMode int

// Data connection modes.
const (
	EPSV DataMode = iota // RFC 2428 extended passive (the default)
	PASV                 // RFC 959 passive
	PORT                 // RFC 959 active: the server connects to us
)

func (m DataMode) String() string {
	switch m {
	case PASV:
		return "pasv"
	case PORT:
		return "port"
	}
	return "epsv"
}

// ParseDataMode parses "epsv", "pasv" or "port".
func ParseDataMode(s string) (DataMode, error) {
	switch strings.ToLower(s) {
	case "epsv", "":
		return EPSV, nil
	case "pasv":
		return PASV, nil
	case "port":
		return PORT, nil
	}
	return 0, fmt.Errorf("bench: data mode %q: want epsv, pasv or port", s)
}

// sinkBufSize is the read size for downloads when splice is not used.
const sinkBufSize = 1 << 20

// Sink receives downloads: it reads them with a 1 MiB buffer, and with
// /dev/null open splices everything past the first MiB into it, never copying
// the bulk of a large file into user space.
type Sink struct {
	null *os.File
	buf  []byte
}

// NewSink returns a sink for one worker: splice into /dev/null when splice
// is true (and /dev/null opens), else reads with a 1 MiB buffer.
func NewSink(splice bool) *Sink {
	s := &Sink{buf: make([]byte, sinkBufSize)}
	if splice {
		if f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
			s.null = f
		}
	}
	return s
}

// Close releases /dev/null.
func (s *Sink) Close() {
	if s.null != nil {
		s.null.Close()
	}
}

// drain reads r to its end and returns the byte count. The first MiB is
// read into the buffer (splice costs more than a read for small files);
// with /dev/null open, the rest of a plain TCP connection is spliced into
// it (a TLS one is read to the end).
func (s *Sink) drain(r net.Conn) (int64, error) {
	if s.buf == nil {
		s.buf = make([]byte, sinkBufSize)
	}
	tcp, _ := r.(*net.TCPConn)
	var n int64
	for {
		if s.null != nil && tcp != nil && n >= sinkBufSize {
			k, err := s.null.ReadFrom(tcp) // splice(2) through a 1 MiB pipe
			return n + k, err
		}
		k, err := r.Read(s.buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// dataEndpoint is a data connection being set up: dialled already (passive)
// or a listener waiting for the server (active).
type dataEndpoint struct {
	conn *net.TCPConn
	ln   *net.TCPListener
}

func (d *dataEndpoint) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.ln != nil {
		d.ln.Close()
	}
}

// open prepares a data connection in mode before a transfer command.
func (c *Conn) openData(ctx context.Context, mode DataMode) (*dataEndpoint, error) {
	switch mode {
	case EPSV, PASV:
		var port int
		var host net.IP
		if mode == EPSV {
			msg, err := c.Expect("EPSV", 229)
			if err != nil {
				return nil, err
			}
			if port, err = parseEPSV(msg); err != nil {
				return nil, err
			}
			host = c.remote
		} else {
			msg, err := c.Expect("PASV", 227)
			if err != nil {
				return nil, err
			}
			if host, port, err = parsePASV(msg); err != nil {
				return nil, err
			}
		}
		// Data connections come from the control connection's address:
		// servers refuse others.
		d := dialer(c.local, c.timeout, c.rcvbuf)
		nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host.String(), strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("data connection: %w", err)
		}
		return &dataEndpoint{conn: nc.(*net.TCPConn)}, nil
	case PORT:
		lc := noKeepAlive
		if c.rcvbuf > 0 {
			// Accepted sockets inherit it, and the window scale it set.
			lc.Control = func(_, _ string, rc syscall.RawConn) error { return setRcvBuf(rc, c.rcvbuf) }
		}
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(c.local.String(), "0"))
		if err != nil {
			return nil, fmt.Errorf("data listener: %w", err)
		}
		ln := l.(*net.TCPListener)
		a := ln.Addr().(*net.TCPAddr)
		var cmd string
		if ip4 := a.IP.To4(); ip4 != nil {
			cmd = fmt.Sprintf("PORT %d,%d,%d,%d,%d,%d", ip4[0], ip4[1], ip4[2], ip4[3], a.Port>>8, a.Port&0xff)
		} else {
			cmd = fmt.Sprintf("EPRT |2|%s|%d|", a.IP, a.Port)
		}
		if _, err := c.Expect(cmd, 200); err != nil {
			ln.Close()
			return nil, err
		}
		return &dataEndpoint{ln: ln}, nil
	}
	return nil, fmt.Errorf("bench: unknown data mode %d", mode)
}

// accept completes an active endpoint once the transfer command was accepted.
func (d *dataEndpoint) accept(timeout time.Duration) (*net.TCPConn, error) {
	if d.conn != nil {
		return d.conn, nil
	}
	d.ln.SetDeadline(time.Now().Add(timeout))
	conn, err := d.ln.AcceptTCP()
	d.ln.Close()
	d.ln = nil
	if err != nil {
		return nil, fmt.Errorf("data connection: %w", err)
	}
	d.conn = conn
	return conn, nil
}

// parseEPSV extracts the port of "Entering Extended Passive Mode (|||port|)".
func parseEPSV(msg string) (int, error) {
	i := strings.IndexByte(msg, '(')
	j := strings.LastIndexByte(msg, ')')
	if i < 0 || j < i+1 {
		return 0, fmt.Errorf("bench: malformed EPSV reply %q", msg)
	}
	inner := msg[i+1 : j]
	if len(inner) < 5 {
		return 0, fmt.Errorf("bench: malformed EPSV reply %q", msg)
	}
	d := inner[0]
	parts := strings.Split(inner, string(d))
	if len(parts) != 5 || parts[0] != "" || parts[1] != "" || parts[2] != "" || parts[4] != "" {
		return 0, fmt.Errorf("bench: malformed EPSV reply %q", msg)
	}
	port, err := strconv.Atoi(parts[3])
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("bench: malformed EPSV reply %q", msg)
	}
	return port, nil
}

// parsePASV extracts host and port of "Entering Passive Mode (h1,h2,h3,h4,p1,p2)".
func parsePASV(msg string) (net.IP, int, error) {
	start := strings.IndexAny(msg, "0123456789")
	if start < 0 {
		return nil, 0, fmt.Errorf("bench: malformed PASV reply %q", msg)
	}
	end := start
	for end < len(msg) && (msg[end] == ',' || msg[end] >= '0' && msg[end] <= '9') {
		end++
	}
	f := strings.Split(msg[start:end], ",")
	if len(f) != 6 {
		return nil, 0, fmt.Errorf("bench: malformed PASV reply %q", msg)
	}
	var b [6]byte
	for i, s := range f {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 255 {
			return nil, 0, fmt.Errorf("bench: malformed PASV reply %q", msg)
		}
		b[i] = byte(v)
	}
	port := int(b[4])<<8 | int(b[5])
	if port == 0 {
		return nil, 0, fmt.Errorf("bench: malformed PASV reply %q", msg)
	}
	return net.IPv4(b[0], b[1], b[2], b[3]), port, nil
}

// transfer runs one transfer command over a fresh data connection: io moves
// the data, then the final 2xx reply is awaited. In a protected session
// the data connection's TLS handshake runs once the 1xx reply has come.
func (c *Conn) transfer(ctx context.Context, mode DataMode, cmd string, io func(net.Conn) (int64, error)) (int64, error) {
	ep, err := c.openData(ctx, mode)
	if err != nil {
		return 0, err
	}
	defer ep.close()
	code, msg, err := c.Cmd(cmd)
	if err != nil {
		return 0, err
	}
	if code != 125 && code != 150 {
		return 0, &ReplyError{verb(cmd), code, msg}
	}
	conn, err := ep.accept(c.timeout)
	if err != nil {
		return 0, err
	}
	conn.SetDeadline(time.Now().Add(c.timeout))
	c.c.SetDeadline(time.Now().Add(c.timeout))
	var data net.Conn = conn
	if c.tls != nil {
		tc, err := c.secureData(ctx, conn)
		if err != nil {
			// The server's reply says why (a refused session reuse, say).
			conn.Close()
			ep.conn = nil
			if code, msg, rerr := c.ReadReply(); rerr == nil && code/100 != 2 {
				return 0, &ReplyError{verb(cmd), code, msg}
			}
			return 0, fmt.Errorf("%s: %w", verb(cmd), err)
		}
		data = tc
	}
	n, ioErr := io(data)
	data.Close()
	ep.conn = nil
	code, msg, err = c.ReadReply()
	if ioErr != nil {
		return n, fmt.Errorf("%s: data: %w", verb(cmd), ioErr)
	}
	if err != nil {
		return n, err
	}
	if code/100 != 2 {
		return n, &ReplyError{verb(cmd), code, msg}
	}
	return n, nil
}

// Retr downloads path into sink and returns the bytes received.
func (c *Conn) Retr(ctx context.Context, mode DataMode, path string, sink *Sink) (int64, error) {
	if c.deflate > 0 {
		return c.transfer(ctx, mode, "RETR "+path, sink.inflate)
	}
	return c.transfer(ctx, mode, "RETR "+path, sink.drain)
}

// EnableModeZ switches the session to MODE Z at level: downloads are
// inflated (and counted as the file's bytes), uploads deflated, listings
// inflated.
func (c *Conn) EnableModeZ(level int) error {
	if _, err := c.Expect("MODE Z", 200); err != nil {
		return err
	}
	if _, err := c.Expect(fmt.Sprintf("OPTS MODE Z LEVEL %d", level), 200); err != nil {
		return err
	}
	c.deflate = level
	return nil
}

// inflate reads a MODE Z download to its end and returns the inflated
// byte count.
func (s *Sink) inflate(r net.Conn) (int64, error) {
	zr, err := zlib.NewReader(r)
	if err != nil {
		return 0, err
	}
	if s.buf == nil {
		s.buf = make([]byte, sinkBufSize)
	}
	n, err := io.CopyBuffer(io.Discard, zr, s.buf)
	if cerr := zr.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// List runs LIST (or MLSD when mlsd) on path and returns the bytes and lines
// received.
func (c *Conn) List(ctx context.Context, mode DataMode, path string, mlsd bool) (bytes int64, lines int, err error) {
	cmd := "LIST"
	if mlsd {
		cmd = "MLSD"
	}
	if path != "" {
		cmd += " " + path
	}
	buf := make([]byte, 64*1024)
	n, err := c.transfer(ctx, mode, cmd, func(conn net.Conn) (int64, error) {
		var in io.Reader = conn
		if c.deflate > 0 {
			zr, err := zlib.NewReader(conn)
			if err != nil {
				return 0, err
			}
			in = zr
		}
		var n int64
		for range 1 << 20 { // bounded: a listing of at most 64 GiB
			k, err := in.Read(buf)
			n += int64(k)
			for _, b := range buf[:k] {
				if b == '\n' {
					lines++
				}
			}
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
		return n, errors.New("listing too long")
	})
	return n, lines, err
}

// listing runs MLSD on path (or LIST once the server showed it has no
// MLSD) and reports whether MLSD was used.
func (w *worker) listing(ctx context.Context, mode DataMode, path string, mlsd bool) (n int64, lines int, usedMLSD bool, err error) {
	if mlsd && !w.noMLSD {
		n, lines, err = w.conn.List(ctx, mode, path, true)
		var re *ReplyError
		if !errors.As(err, &re) || re.Cmd != "MLSD" || (re.Code != 500 && re.Code != 502) {
			return n, lines, true, err
		}
		w.noMLSD = true
	}
	n, lines, err = w.conn.List(ctx, mode, path, false)
	return n, lines, false, err
}

// Stor uploads size bytes of src (from offset 0) to path. The copy from an
// *os.File to a plain TCP connection uses sendfile(2); a protected one
// gets it in 256 KiB writes.
func (c *Conn) Stor(ctx context.Context, mode DataMode, path string, src *os.File, size int64) (int64, error) {
	return c.transfer(ctx, mode, "STOR "+path, func(conn net.Conn) (int64, error) {
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		var n int64
		var err error
		if c.deflate > 0 {
			zw, zerr := zlib.NewWriterLevel(conn, c.deflate)
			if zerr != nil {
				return 0, zerr
			}
			n, err = io.Copy(zw, io.LimitReader(src, size))
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		} else if tc, ok := conn.(*tls.Conn); ok {
			n, err = sendTLS(tc, src, size)
		} else {
			n, err = conn.(*net.TCPConn).ReadFrom(io.LimitReader(src, size))
		}
		if err == nil && n != size {
			err = fmt.Errorf("sent %d of %d bytes", n, size)
		}
		return n, err
	})
}
