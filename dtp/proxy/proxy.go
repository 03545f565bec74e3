// Package proxy frames and reads the PROXY protocol header (v1 and v2) that
// a load balancer sends ahead of a connection's own bytes, naming the client
// it relays. The header format is github.com/pires/go-proxyproto's; this
// package decides where a header ends without reading a byte past it, so
// that what follows (an FTP command, a TLS ClientHello, an upload's data)
// stays the connection's.
package proxy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	proxyproto "github.com/pires/go-proxyproto"
)

// Header lengths: a v1 header is one line of at most 107 bytes (CRLF
// included); a v2 header is 16 bytes and at most MaxV2Body more.
const (
	MaxV1     = 107
	MaxV2Body = 4096 - 16
	MaxLen    = 16 + MaxV2Body
)

// ErrNoHeader: the bytes do not start with a PROXY header's signature.
var ErrNoHeader = errors.New("no PROXY header")

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// Frame reports how long the PROXY header at the start of b is. It returns
// n > 0 once the whole header is in b; 0 and no error while b is a
// header's beginning that needs more bytes; ErrNoHeader when b cannot
// start one; another error for a header that is already malformed (too
// long, a v1 line without CRLF, a v2 version other than 2).
func Frame(b []byte) (int, error) {
	switch {
	case len(b) == 0:
		return 0, nil
	case b[0] == sigV1[0]:
		if !bytes.HasPrefix(b, sigV1[:min(len(b), len(sigV1))]) {
			return 0, ErrNoHeader
		}
		if len(b) < len(sigV1) {
			return 0, nil
		}
		i := bytes.IndexByte(b[:min(len(b), MaxV1)], '\n')
		if i < 0 {
			if len(b) >= MaxV1 {
				return 0, errors.New("PROXY v1 header longer than 107 bytes")
			}
			return 0, nil
		}
		if i == 0 || b[i-1] != '\r' {
			return 0, errors.New("PROXY v1 header does not end with CRLF")
		}
		return i + 1, nil
	case b[0] == sigV2[0]:
		if !bytes.HasPrefix(b, sigV2[:min(len(b), len(sigV2))]) {
			return 0, ErrNoHeader
		}
		if len(b) < 16 {
			return 0, nil
		}
		if b[12]>>4 != 2 {
			return 0, fmt.Errorf("PROXY v2 header with version %d", b[12]>>4)
		}
		n := int(binary.BigEndian.Uint16(b[14:16]))
		if n > MaxV2Body {
			return 0, fmt.Errorf("PROXY v2 header of %d bytes, more than %d", 16+n, MaxLen)
		}
		if len(b) < 16+n {
			return 0, nil
		}
		return 16 + n, nil
	}
	return 0, ErrNoHeader
}

// Header is what a PROXY header says.
type Header struct {
	// Local: the balancer speaks for itself (a v2 LOCAL command, as in its
	// health checks, or v1 UNKNOWN): the connection's own addresses hold.
	Local  bool
	Source netip.AddrPort // the client, as the balancer saw it
	Dest   netip.AddrPort // the address the client reached on the balancer
}

// Parse reads the complete header h (exactly Frame's n bytes).
func Parse(h []byte) (Header, error) {
	r := bufio.NewReaderSize(bytes.NewReader(h), max(len(h), 16))
	ph, err := proxyproto.Read(r)
	if err != nil {
		return Header{}, err
	}
	if r.Buffered() != 0 {
		return Header{}, errors.New("PROXY header shorter than framed")
	}
	if ph.Command.IsLocal() {
		return Header{Local: true}, nil
	}
	if ph.TransportProtocol == proxyproto.UNSPEC {
		return Header{Local: true}, nil // v1 UNKNOWN: addresses to be ignored
	}
	src, dst, ok := ph.TCPAddrs()
	if !ok || !ph.TransportProtocol.IsStream() {
		return Header{}, fmt.Errorf("PROXY header for transport %#x, not TCP", byte(ph.TransportProtocol))
	}
	return Header{Source: unmap(src), Dest: unmap(dst)}, nil
}

func unmap(a *net.TCPAddr) netip.AddrPort {
	ap := a.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Trusted reports whether a is in one of nets.
func Trusted(nets []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
