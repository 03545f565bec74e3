// The control connection: dialing from a chosen source address, commands and multi-line replies.
package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Reply limits: a longer line or reply is a protocol error, not a hang.
const (
	maxReplyLine  = 8192
	maxReplyLines = 10000
	readerSize    = 2048 // per control connection; idle runs hold thousands
)

// ReplyError is a reply outside what the command expected.
type ReplyError struct {
	Cmd  string // the verb, without its argument
	Code int
	Msg  string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Cmd, e.Code, e.Msg)
}

// Conn is one control connection. It is not safe for concurrent use.
type Conn struct {
	c       net.Conn // the TCP connection, or TLS over it
	r       *bufio.Reader
	timeout time.Duration // for every command and its reply
	local   net.IP        // the control connection's local address
	remote  net.IP        // the server's address, for data connections
	// tls is set once the control connection is protected: Login then
	// asks for PROT P, and data connections are TLS with this
	// configuration, whose session cache is this connection's alone, so
	// that they resume its session.
	tls *tls.Config
	// deflate is the MODE Z level once EnableModeZ has switched the
	// session to it (0: MODE S): data connections carry zlib streams.
	deflate int
	// rcvbuf, when positive, is the SO_RCVBUF of data connections, set
	// before they connect (passive) or on the listener (active), so that
	// their receive window stays that small.
	rcvbuf int
}

// noKeepAlive listens for data connections (PORT, and the ceiling's
// passive ones) without TCP keepalive, as dialer dials.
var noKeepAlive = net.ListenConfig{KeepAlive: -1}

// dialer returns a dialer binding to src (nil: any). With a source address
// the port is chosen at connect time (IP_BIND_ADDRESS_NO_PORT), so one
// source address may reuse a port towards different servers' ports.
// rcvbuf, when positive, is the socket's SO_RCVBUF, set before connect.
//
// TCP keepalive is off: a benchmark's connections live on loopback for
// seconds, and the four setsockopt calls it takes per connection are load
// generator CPU spent on every data connection.
func dialer(src net.IP, timeout time.Duration, rcvbuf int) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: -1}
	if src != nil || rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			if src != nil {
				if err := bindNoPort(c); err != nil {
					return err
				}
			}
			if rcvbuf > 0 {
				return setRcvBuf(c, rcvbuf)
			}
			return nil
		}
	}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	return d
}

// Dial connects to addr from src (nil: the system's choice) and reads the
// 220 greeting. timeout bounds the dial and every later command.
func Dial(ctx context.Context, addr string, src net.IP, timeout time.Duration) (*Conn, error) {
	return DialTarget(ctx, Target{Addr: addr}, src, timeout)
}

// DialTarget connects to t from src (nil: the system's choice), reads the
// 220 greeting and protects the control connection as t.TLS says:
// implicit TLS before the greeting, AUTH TLS after it. timeout bounds the
// dial, the handshake and every later command.
func DialTarget(ctx context.Context, t Target, src net.IP, timeout time.Duration) (*Conn, error) {
	nc, err := dialer(src, timeout, 0).DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	tc := nc.(*net.TCPConn)
	c := &Conn{
		c:       tc,
		r:       bufio.NewReaderSize(tc, readerSize),
		timeout: timeout,
		local:   tc.LocalAddr().(*net.TCPAddr).IP,
		remote:  tc.RemoteAddr().(*net.TCPAddr).IP,
	}
	if err := c.open(ctx, t); err != nil {
		tc.Close()
		return nil, err
	}
	return c, nil
}

// open runs the start of a session: TLS (implicit), the greeting, AUTH TLS
// (explicit).
func (c *Conn) open(ctx context.Context, t Target) error {
	if t.TLS == TLSImplicit {
		if err := c.startTLS(ctx, t); err != nil {
			return err
		}
	}
	if err := c.expect("greeting", 220); err != nil {
		return err
	}
	if t.TLS == TLSExplicit {
		if _, err := c.Expect("AUTH TLS", 234); err != nil {
			return err
		}
		if c.r.Buffered() > 0 {
			return errors.New("bench: the server sent more after 234, in the clear")
		}
		return c.startTLS(ctx, t)
	}
	return nil
}

// LocalIP returns the control connection's local address.
func (c *Conn) LocalIP() net.IP { return c.local }

// Close closes the connection without QUIT.
func (c *Conn) Close() error { return c.c.Close() }

// Quit sends QUIT, waits for 221 and closes.
func (c *Conn) Quit() error {
	_, _, err := c.Cmd("QUIT")
	if err == nil {
		// The server closes after 221; wait briefly so the close is its
		// (TIME_WAIT lands on the server), then close our side.
		c.c.SetReadDeadline(time.Now().Add(c.timeout))
		var b [1]byte
		c.c.Read(b[:])
	}
	c.c.Close()
	return err
}

// Login sends USER and, after 331, PASS; it succeeds on 230 (or 202).
func (c *Conn) Login(user, pass string) error {
	code, msg, err := c.Cmd("USER " + user)
	if err != nil {
		return err
	}
	switch code {
	case 230:
		return c.protectData()
	case 331, 332:
	default:
		return &ReplyError{"USER", code, msg}
	}
	code, msg, err = c.Cmd("PASS " + pass)
	if err != nil {
		return err
	}
	if code != 230 && code != 202 {
		return &ReplyError{"PASS", code, msg}
	}
	return c.protectData()
}

// Cmd sends one command line and returns its final reply (preliminary 1xx
// replies are returned too: the caller decides what follows).
func (c *Conn) Cmd(line string) (code int, msg string, err error) {
	if strings.ContainsAny(line, "\r\n") {
		return 0, "", fmt.Errorf("bench: CR or LF in command %q", line)
	}
	if err := c.send(line); err != nil {
		return 0, "", err
	}
	return c.ReadReply()
}

// Expect sends line and fails unless the reply code is one of want.
func (c *Conn) Expect(line string, want ...int) (string, error) {
	code, msg, err := c.Cmd(line)
	if err != nil {
		return "", err
	}
	for _, w := range want {
		if code == w {
			return msg, nil
		}
	}
	return msg, &ReplyError{verb(line), code, msg}
}

func (c *Conn) expect(what string, want int) error {
	c.c.SetDeadline(time.Now().Add(c.timeout))
	code, msg, err := c.ReadReply()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if code != want {
		return &ReplyError{what, code, msg}
	}
	return nil
}

func verb(line string) string {
	v, _, _ := strings.Cut(line, " ")
	return strings.ToUpper(v)
}

func (c *Conn) send(line string) error {
	c.c.SetDeadline(time.Now().Add(c.timeout))
	buf := make([]byte, 0, len(line)+2)
	buf = append(append(buf, line...), '\r', '\n')
	_, err := c.c.Write(buf)
	return err
}

// ReadReply reads one reply, single or multi-line, within the timeout set by
// the last command. It returns the code and the text of the last line.
func (c *Conn) ReadReply() (int, string, error) {
	line, err := c.readLine()
	if err != nil {
		return 0, "", err
	}
	code, sep, text, err := parseReplyLine(line)
	if err != nil {
		return 0, "", err
	}
	if sep == ' ' {
		return code, text, nil
	}
	for range maxReplyLines {
		line, err := c.readLine()
		if err != nil {
			return 0, "", err
		}
		if len(line) >= 4 && line[3] == ' ' && line[:3] == strconv.Itoa(code) {
			return code, line[4:], nil
		}
	}
	return 0, "", fmt.Errorf("bench: reply %d longer than %d lines", code, maxReplyLines)
}

// parseReplyLine splits the first line of a reply into code, separator
// (' ' or '-') and text.
func parseReplyLine(line string) (int, byte, string, error) {
	if len(line) < 3 {
		return 0, 0, "", fmt.Errorf("bench: malformed reply %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil || code < 100 || code > 599 {
		return 0, 0, "", fmt.Errorf("bench: malformed reply %q", line)
	}
	if len(line) == 3 {
		return code, ' ', "", nil
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, "", fmt.Errorf("bench: malformed reply %q", line)
	}
	return code, line[3], line[4:], nil
}

// readLine reads one line without its CRLF (or LF).
func (c *Conn) readLine() (string, error) {
	var long []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		if err == nil {
			if long != nil {
				frag = append(long, frag...)
				if len(frag) > maxReplyLine {
					return "", fmt.Errorf("bench: reply line longer than %d bytes", maxReplyLine)
				}
			}
			s := strings.TrimRight(string(frag), "\r\n")
			return s, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, frag...)
			if len(long) > maxReplyLine {
				return "", fmt.Errorf("bench: reply line longer than %d bytes", maxReplyLine)
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			return "", errors.New("bench: server closed the control connection")
		}
		return "", err
	}
}
