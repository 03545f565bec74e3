// FTPS on the client side: implicit TLS and AUTH TLS on the control connection, PROT P, protected data connections.
package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// TLSMode says whether and how a target's sessions use TLS.
type TLSMode int

// TLS modes.
const (
	TLSOff      TLSMode = iota // plain FTP
	TLSExplicit                // AUTH TLS after the greeting (RFC 4217)
	TLSImplicit                // TLS from the first byte (ftps://)
)

func (m TLSMode) String() string {
	switch m {
	case TLSExplicit:
		return "explicit"
	case TLSImplicit:
		return "implicit"
	}
	return "off"
}

// TLSOptions say how the server's certificate is checked.
type TLSOptions struct {
	Insecure bool   // accept any certificate (a self-signed one on loopback)
	CAFile   string // PEM roots to verify against (empty: the system's)
}

// Config returns the client configuration for sessions to addr
// (host:port): TLS 1.2 or 1.3, the host as ServerName (so that data
// connections, on other ports, find the control connection's session in
// the cache), and the roots of CAFile.
func (o TLSOptions) Config(addr string) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bench: TLS: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host, InsecureSkipVerify: o.Insecure}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("bench: TLS: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("bench: TLS: no certificate in %s", o.CAFile)
		}
	}
	return cfg, nil
}

// startTLS runs the client handshake on the control connection. The
// configuration is t's with a session cache of its own: the tickets of
// this session are what its data connections resume, as servers that
// require session reuse insist.
func (c *Conn) startTLS(ctx context.Context, t Target) error {
	if t.TLSConfig == nil {
		return errors.New("bench: a TLS target needs a TLS configuration")
	}
	cfg := t.TLSConfig.Clone()
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	tc := tls.Client(c.c, cfg)
	tc.SetDeadline(time.Now().Add(c.timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	c.c, c.tls = tc, cfg
	c.r.Reset(tc)
	return nil
}

// protectData sends PBSZ 0 and PROT P on a protected control connection.
func (c *Conn) protectData() error {
	if c.tls == nil {
		return nil
	}
	if _, err := c.Expect("PBSZ 0", 200); err != nil {
		return err
	}
	_, err := c.Expect("PROT P", 200)
	return err
}

// secureData runs the client handshake on a data connection of a
// protected session, resuming the control connection's session when the
// server offers it.
func (c *Conn) secureData(ctx context.Context, conn *net.TCPConn) (*tls.Conn, error) {
	tc := tls.Client(conn, c.tls)
	tc.SetDeadline(time.Now().Add(c.timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("data TLS handshake: %w", err)
	}
	return tc, nil
}

// tlsCopyBuf is the size of the writes of a protected upload: large, so
// that crypto/tls fills whole records and the loop makes few calls.
const tlsCopyBuf = 256 << 10

var tlsBufs = sync.Pool{New: func() any { b := make([]byte, tlsCopyBuf); return &b }}

// sendTLS writes size bytes of src to a protected data connection, then
// ends them with close_notify and waits for the server to close its side.
func sendTLS(tc *tls.Conn, src io.Reader, size int64) (int64, error) {
	bp := tlsBufs.Get().(*[]byte)
	defer tlsBufs.Put(bp)
	n, err := io.CopyBuffer(struct{ io.Writer }{tc}, io.LimitReader(src, size), *bp)
	if err != nil {
		return n, err
	}
	if err := tc.CloseWrite(); err != nil {
		return n, err
	}
	// The server answers with its own close_notify (and, under TLS 1.3,
	// maybe a ticket first) or just closes: either way the upload's fate
	// is in the reply that follows, so how the close went does not count.
	io.Copy(io.Discard, tc)
	return n, nil
}
