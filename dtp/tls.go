// FTPS (RFC 4217): the server certificate, the TLS settings, and session tickets that bind data connections to their control connection.
package dtp

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// TLS holds the server certificate and the settings shared by every TLS
// connection of the server, control and data. Its configurations are for
// the server side only (tls.Server). Its methods are safe from any
// goroutine.
//
// # Binding data connections to their control connection
//
// RFC 4217 leaves open how a server knows that a data connection comes
// from the client of its control connection; vsftpd and ProFTPD require
// the data connection to resume the control connection's TLS session, and
// so does rftpd when reuse is required (Config.TLSReuse, tls_reuse).
//
// Each control connection gets a random 16-byte tag (NewTag) and its own
// configuration (ControlConfig) whose WrapSession writes the tag into
// every session ticket it issues, as an entry of SessionState.Extra, and
// encrypts the ticket with the server's ticket keys. Tickets are opaque
// to the client and authenticated (AES-GCM under keys only this process
// knows), so a client cannot make or change a tag.
//
// A data connection's handshake (HandshakeData) resumes only a ticket
// that carries its own control connection's tag: any other ticket, from
// another control connection or from a data connection, is not resumed
// and the handshake goes on in full. With reuse required, a data
// connection that did not resume is refused (protocol.ErrTLSReuse) once
// its handshake is over; a client that never had the control
// connection's ticket cannot pass, whatever address it connects from.
//
// # Tickets that data connections issue
//
// crypto/tls gives a server no way to send no ticket while still
// accepting them, so a data connection issues one too (TLS 1.3 after the
// handshake, TLS 1.2 in it). It carries the tag only if the data
// connection itself resumed a ticket with that tag: it proves nothing
// the client did not already hold, and clients that keep the newest
// ticket they received (OpenSSL-based ones often do) go on resuming. A
// data connection that did a full handshake issues a ticket without any
// tag, which no data connection will ever resume, so a client refused
// for not resuming cannot come back with a ticket minted by the refused
// connection, and a data connection is never a way to mint a ticket for
// another session. (Control connections resume any ticket the keys
// decrypt: that only skips the certificate exchange, and the tickets a
// resumed control connection issues carry its own new tag.)
//
// Under TLS 1.3 that ticket arrives after the handshake, also on upload
// connections, where a client may never read. A client that then closes
// its socket with the ticket unread makes its kernel reset the connection
// and drop what it had not sent yet. A client has to read before it
// closes (after its close_notify) with any TLS 1.3 server that issues
// tickets on every connection, as OpenSSL does by default.
//
// The ticket keys are random, made once by NewTLS and kept by Reload: they
// live as long as the process, and so do the tickets (crypto/tls caps a
// ticket's age at 7 days).
type TLS struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
	reload            sync.Mutex // one Reload at a time
	base              *tls.Config
}

// tagLen is the length of the tags NewTag makes and ControlConfig takes.
const tagLen = 16

// tagMark begins the SessionState.Extra entry that holds a control
// connection's tag; the tag follows it.
const tagMark = "rftpd control tag:"

// NewTLS loads the PEM certificate chain and private key from certFile
// and keyFile. Connections use TLS 1.2 or 1.3, the highest both ends know.
func NewTLS(certFile, keyFile string) (*TLS, error) {
	cert, err := loadPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	var key [32]byte
	rand.Read(key[:])
	t := &TLS{certFile: certFile, keyFile: keyFile}
	t.cert.Store(cert)
	t.base = &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.cert.Load(), nil
		},
	}
	t.base.SetSessionTicketKeys([][32]byte{key})
	return t, nil
}

// Reload reads the certificate and key files again and serves the new
// pair to every handshake from then on; connections already made keep
// theirs. On an error the pair in use stays and the error is returned.
func (t *TLS) Reload() error {
	t.reload.Lock()
	defer t.reload.Unlock()
	cert, err := loadPair(t.certFile, t.keyFile)
	if err != nil {
		return err
	}
	t.cert.Store(cert)
	return nil
}

// Certificate returns the certificate pair in use.
func (t *TLS) Certificate() *tls.Certificate { return t.cert.Load() }

// loadPair reads and checks a PEM certificate chain and private key; its
// errors name the file at fault, on one line.
func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("dtp: tls certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("dtp: tls key: %w", err)
	}
	var leaf *pem.Block
	for rest := certPEM; leaf == nil; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, fmt.Errorf("dtp: tls certificate %s: no PEM CERTIFICATE block", certFile)
		}
		if block.Type == "CERTIFICATE" {
			leaf = block
		}
	}
	if _, err := x509.ParseCertificate(leaf.Bytes); err != nil {
		return nil, fmt.Errorf("dtp: tls certificate %s: %v", certFile, oneLine(err))
	}
	if !hasKeyBlock(keyPEM) {
		return nil, fmt.Errorf("dtp: tls key %s: no PEM PRIVATE KEY block", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("dtp: tls key %s with certificate %s: %v", keyFile, certFile, oneLine(err))
	}
	return &cert, nil
}

// hasKeyBlock reports whether data holds a PEM block of a private key.
func hasKeyBlock(data []byte) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "PRIVATE KEY" || strings.HasSuffix(block.Type, " PRIVATE KEY") {
			return true
		}
	}
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// NewTag returns a random tag for one control connection, to give to
// ControlConfig and to Session.SetControlTLS.
func NewTag() []byte {
	tag := make([]byte, tagLen)
	rand.Read(tag)
	return tag
}

// ControlConfig returns the server configuration for one control
// connection: the shared settings and certificate, with every session
// ticket it issues carrying tag (see the type's comment).
//
// It costs 512 bytes in two allocations (measured by
// TestControlConfigSize): the tls.Config copy (464 bytes, a 480-byte size
// class) and the ticket-wrapping closure holding the tag (32 bytes). The
// control connection's tls.Conn keeps both for the session's life.
func (t *TLS) ControlConfig(tag []byte) *tls.Config {
	tg := tagArray(tag) // held by value in the closure: no allocation of its own
	base := t.base
	c := base.Clone()
	c.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		own := tg
		ss.Extra = withTag(ss.Extra, own[:])
		return base.EncryptTicket(cs, ss)
	}
	return c
}

// tagArray copies tag into an array; a tag of another length fills it
// partly or is cut, and so matches no tag from NewTag.
func tagArray(tag []byte) (a [tagLen]byte) {
	copy(a[:], tag)
	return a
}

// withTag returns extra without any tag entry, plus one for tag when tag
// is not nil.
func withTag(extra [][]byte, tag []byte) [][]byte {
	out := extra[:0:0]
	for _, e := range extra {
		if !bytes.HasPrefix(e, []byte(tagMark)) {
			out = append(out, e)
		}
	}
	if tag != nil {
		out = append(out, append([]byte(tagMark), tag...))
	}
	return out
}

// hasTag reports whether extra holds the entry of tag. A tag that is not
// tagLen bytes long matches nothing.
func hasTag(extra [][]byte, tag []byte) bool {
	if len(tag) != tagLen {
		return false
	}
	for _, e := range extra {
		if len(e) == len(tagMark)+tagLen && string(e[:len(tagMark)]) == tagMark && bytes.Equal(e[len(tagMark):], tag) {
			return true
		}
	}
	return false
}

// HandshakeData runs the server side of the TLS handshake on the data
// connection c, which belongs to the control connection tagged tag
// (nil: the control connection has no TLS). The handshake must be over
// by deadline (zero: none); the deadline is cleared afterwards.
//
// The handshake resumes only a session whose ticket carries tag. When
// reuse is true, a data connection that did not resume such a session is
// refused with an error wrapping protocol.ErrTLSReuse; when it is false,
// any successful handshake is accepted. A failed handshake returns an
// error wrapping both protocol.ErrTLSHandshake and its cause. On an error
// c is left open, for the caller to close (without close_notify: the
// client must not take the end for a clean one).
func (t *TLS) HandshakeData(c net.Conn, tag []byte, reuse bool, deadline time.Time) (*tls.Conn, error) {
	tag = bytes.Clone(tag)
	base := t.base
	cfg := base.Clone()
	cfg.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := base.DecryptTicket(identity, cs)
		if err != nil || ss == nil || !hasTag(ss.Extra, tag) {
			return nil, err // not this control connection's: no resumption
		}
		return ss, nil
	}
	cfg.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		// Resumed: the client holds this control connection's ticket
		// already. Not resumed: a ticket no data connection resumes.
		var keep []byte
		if cs.DidResume {
			keep = tag
		}
		ss.Extra = withTag(ss.Extra, keep)
		return base.EncryptTicket(cs, ss)
	}
	tc := tls.Server(c, cfg)
	if err := c.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("dtp: %w: %w", protocol.ErrTLSHandshake, err)
	}
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("dtp: %w: %w", protocol.ErrTLSHandshake, err)
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		return nil, fmt.Errorf("dtp: %w: %w", protocol.ErrTLSHandshake, err)
	}
	if reuse && !tc.ConnectionState().DidResume {
		return nil, fmt.Errorf("dtp: %w (%s, no resumption of the control connection's ticket)",
			protocol.ErrTLSReuse, tls.VersionName(tc.ConnectionState().Version))
	}
	return tc, nil
}

// errNoTLS refuses PROT P on a server without a certificate.
var errNoTLS = fmt.Errorf("dtp: no TLS certificate is configured: %w", protocol.ErrTLSHandshake)
