// Per-session state: identity, pending data endpoint, transfer in flight.
package dtp

import (
	"fmt"
	"net/netip"
	"os"
	"syscall"

	"github.com/rftpd/rftpd/protocol"
)

// identity is who a session is logged in as. It never changes once made:
// a new login replaces the pointer.
type identity struct {
	root     *os.Root
	beneath  syscall.RawConn // the root's directory for openat2 (openSource, statPath); nil: use root
	perms    protocol.Perm
	anon     bool
	tlsData  bool      // data connections must be protected (PROT P)
	tlsReuse bool      // protected data connections must resume the control session
	user     string    // the name it logged in with, for the audit records
	from     *Accounts // whose roots it uses: held while it is in use (reload.go)
}

// errNotLoggedIn refuses storage work for a session without identity.
var errNotLoggedIn = fmt.Errorf("dtp: not logged in: %w", protocol.ErrPermission)

// allow checks that id may do what needs p (0: anything a logged-in user
// may do). Anonymous sessions never change anything, whatever their perms
// say. This repeats the protocol's check as defence in depth.
func (id *identity) allow(p protocol.Perm) error {
	if id == nil || id.root == nil {
		return errNotLoggedIn
	}
	if p&^protocol.PermRead != 0 && id.anon {
		return fmt.Errorf("dtp: anonymous users may not %s: %w", p, protocol.ErrPermission)
	}
	if id.perms&p != p {
		return fmt.Errorf("dtp: no %s permission: %w", p, protocol.ErrPermission)
	}
	return nil
}

// identity returns the session's current identity (nil before login).
func (sess *Session) identity() *identity {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.id
}

// holdIdentity is identity for work that uses its root (a storage
// operation on a worker): the root stays open, even if a reload retires
// its accounts, until the caller's releaseIdentity.
func (sess *Session) holdIdentity() *identity {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.id != nil {
		sess.id.from.hold() // cannot fail: sess.id holds a reference
	}
	return sess.id
}

// releaseIdentity ends a holdIdentity.
func releaseIdentity(id *identity) {
	if id != nil {
		id.from.release()
	}
}

// setIdentity records the result of a login; nil logs out.
func (sess *Session) setIdentity(id *identity) {
	sess.mu.Lock()
	old := sess.id
	if sess.closed {
		old = id // never stored
	} else {
		sess.id = id
	}
	sess.mu.Unlock()
	releaseIdentity(old)
}

// takeEndpoint removes the pending passive listener and active address and
// returns the listener and the transfer in flight. Call with mu held.
func (sess *Session) takeEndpoint() (*listener, *transfer) {
	ln := sess.ln
	sess.ln = nil
	sess.active = netip.AddrPort{}
	return ln, sess.xfer
}

// setActive handles ReqActive: the address replaces any passive listener.
func (sess *Session) setActive(addr netip.AddrPort) {
	sess.mu.Lock()
	ln, _ := sess.takeEndpoint()
	if !sess.closed {
		sess.active = addr
	}
	sess.mu.Unlock()
	sess.srv.lns.put(ln)
}

// abort handles ReqAbort: the transfer in flight is stopped (its goroutine
// posts EvTransferDone with ErrAborted), and so is the hash in flight
// (EvHash), and any pending endpoint dropped.
func (sess *Session) abort() {
	sess.stopHash()
	sess.mu.Lock()
	ln, t := sess.takeEndpoint()
	sess.mu.Unlock()
	sess.srv.lns.put(ln)
	if t != nil {
		t.abort()
	}
}

// logout handles ReqLogout (REIN): identity dropped, endpoint closed,
// transfer and hash aborted.
func (sess *Session) logout() {
	sess.stopHash()
	sess.mu.Lock()
	old := sess.id
	sess.id = nil
	ln, t := sess.takeEndpoint()
	sess.mu.Unlock()
	releaseIdentity(old)
	sess.srv.lns.put(ln)
	if t != nil {
		t.abort()
	}
}
