// Tests of PROXY header framing and parsing: good headers of both versions, and a battery of malformed, truncated, oversized ones.
package proxy

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// v2 makes a v2 header with the PROXY command for src and dst.
func v2(t testing.TB, src, dst string) []byte {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(2,
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)),
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFrameAndParse(t *testing.T) {
	v2local := append([]byte(nil), sigV2...)
	v2local = append(v2local, 0x20, 0x00, 0, 0) // LOCAL, UNSPEC, no addresses
	for _, tt := range []struct {
		name     string
		in       []byte
		src, dst string // "": a LOCAL header
	}{
		{"v1 tcp4", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 21\r\n"), "192.0.2.7:40000", "198.51.100.1:21"},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::7 2001:db8::1 40000 21\r\n"), "[2001:db8::7]:40000", "[2001:db8::1]:21"},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), "", ""},
		{"v2 tcp4", v2(t, "192.0.2.7:40000", "198.51.100.1:21"), "192.0.2.7:40000", "198.51.100.1:21"},
		{"v2 tcp6", v2(t, "[2001:db8::7]:40000", "[2001:db8::1]:21"), "[2001:db8::7]:40000", "[2001:db8::1]:21"},
		{"v2 local", v2local, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			after := []byte("USER anonymous\r\n")
			in := append(append([]byte(nil), tt.in...), after...)
			// Every prefix short of the header asks for more.
			for i := range len(tt.in) {
				if n, err := Frame(in[:i]); n != 0 || err != nil {
					t.Fatalf("Frame of %d bytes: %d, %v; want 0, nil", i, n, err)
				}
			}
			n, err := Frame(in)
			if err != nil || n != len(tt.in) {
				t.Fatalf("Frame: %d, %v; want %d", n, err, len(tt.in))
			}
			h, err := Parse(in[:n])
			if err != nil {
				t.Fatal(err)
			}
			if tt.src == "" {
				if !h.Local {
					t.Fatalf("got %+v, want a LOCAL header", h)
				}
				return
			}
			if h.Local || h.Source != netip.MustParseAddrPort(tt.src) || h.Dest != netip.MustParseAddrPort(tt.dst) {
				t.Fatalf("got %+v, want %s -> %s", h, tt.src, tt.dst)
			}
		})
	}
}

func TestMalformedHeaders(t *testing.T) {
	long := "PROXY TCP4 " + strings.Repeat("1", 100) + "\r\n"
	v2big := append([]byte(nil), sigV2...)
	v2big = append(v2big, 0x21, 0x11, 0, 0)
	binary.BigEndian.PutUint16(v2big[14:], MaxV2Body+1)
	v2ver := append([]byte(nil), sigV2...)
	v2ver = append(v2ver, 0x11, 0x11, 0, 12)
	v2short := append([]byte(nil), sigV2...)
	v2short = append(v2short, 0x21, 0x11, 0, 4, 1, 2, 3, 4) // TCP4 needs 12 bytes
	v2udp := append([]byte(nil), sigV2...)
	v2udp = append(v2udp, 0x21, 0x12, 0, 12, 192, 0, 2, 7, 198, 51, 100, 1, 0x9c, 0x40, 0, 21)
	for _, tt := range []struct {
		name  string
		in    []byte
		frame bool // Frame accepts it (Parse must refuse it)
	}{
		{"no header", []byte("USER anonymous\r\n"), false},
		{"lower case", []byte("proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n"), false},
		{"TLS ClientHello", []byte{0x16, 0x03, 0x01, 0x02, 0x00}, false},
		{"v1 too long", []byte(long), false},
		{"v1 bare LF", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 21\n"), false},
		{"v1 bad address", []byte("PROXY TCP4 192.0.2.300 198.51.100.1 40000 21\r\n"), true},
		{"v1 family mismatch", []byte("PROXY TCP4 2001:db8::7 198.51.100.1 40000 21\r\n"), true},
		{"v1 bad port", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 70000 21\r\n"), true},
		{"v1 missing field", []byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000\r\n"), true},
		{"v1 unknown protocol", []byte("PROXY SCTP 192.0.2.7 198.51.100.1 40000 21\r\n"), true},
		{"v1 NUL", []byte("PROXY TCP4 192.0.2.7\x00 198.51.100.1 40000 21\r\n"), true},
		{"v2 oversized", v2big, false},
		{"v2 version 1", v2ver, false},
		{"v2 short addresses", v2short, true},
		{"v2 UDP", v2udp, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Frame(tt.in)
			if !tt.frame {
				if err == nil {
					t.Fatalf("Frame accepted it: %d", n)
				}
				return
			}
			if err != nil || n == 0 {
				t.Fatalf("Frame: %d, %v", n, err)
			}
			if h, err := Parse(tt.in[:n]); err == nil {
				t.Fatalf("Parse accepted it: %+v", h)
			}
		})
	}
	if _, err := Frame([]byte("USER x")); !errors.Is(err, ErrNoHeader) {
		t.Errorf("a command line: %v, want ErrNoHeader", err)
	}
}

// TestRead: on a real connection, the header is read and the bytes after
// it (an upload's data) are left for the transfer, also when the header
// arrives in pieces.
func TestRead(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hdr := v2(t, "192.0.2.7:40000", "198.51.100.1:21")
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(hdr[:5])
		time.Sleep(20 * time.Millisecond)
		c.Write(hdr[5:])
		c.Write([]byte("file data"))
	}()
	c, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h, err := Read(c, time.Now().Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if h.Source != netip.MustParseAddrPort("192.0.2.7:40000") {
		t.Fatalf("source %v", h.Source)
	}
	rest, _ := io.ReadAll(c)
	if string(rest) != "file data" {
		t.Fatalf("after the header: %q", rest)
	}
}

// TestReadTimeout: a connection that sends half a header is given up at
// the deadline.
func TestReadTimeout(t *testing.T) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cl, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cl.Write([]byte("PROXY TCP4 "))
	c, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := Read(c, time.Now().Add(50*time.Millisecond)); err == nil {
		t.Fatal("half a header was taken")
	}
}

// FuzzProxyHeader: Frame never claims more bytes than it has, and what it
// frames Parse reads or refuses without a panic; a header Parse accepts
// says the same once formatted again.
func FuzzProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.7 198.51.100.1 40000 21\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(v2(f, "[2001:db8::7]:40000", "[2001:db8::1]:21"))
	f.Add([]byte("USER anonymous\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Frame(b)
		if n < 0 || n > len(b) || (err != nil && n != 0) {
			t.Fatalf("Frame: %d, %v for %d bytes", n, err, len(b))
		}
		if n == 0 {
			return
		}
		h, err := Parse(b[:n])
		if err != nil || h.Local {
			return
		}
		again := v2(t, h.Source.String(), h.Dest.String())
		m, err := Frame(again)
		if err != nil || m != len(again) {
			t.Fatalf("reframing %+v: %d, %v", h, m, err)
		}
		h2, err := Parse(again)
		if err != nil || h2 != h {
			t.Fatalf("round trip: %+v, %v; want %+v", h2, err, h)
		}
	})
}
