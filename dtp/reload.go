// Reload: settings and accounts replaced while the server runs, and the lifetime of the accounts they replace.
package dtp

import (
	"fmt"
	"net/netip"
	"slices"
)

// accounts returns the accounts in force.
func (s *Server) accounts() *Accounts { return s.acc.Load() }

// held runs find on the accounts in force and returns the identity it
// found holding a reference to them, so their roots stay open while the
// identity is in use. Accounts retired and closed after they were loaded
// here are passed over for the ones that replaced them.
func (s *Server) held(find func(*Accounts) *identity) *identity {
	for {
		a := s.accounts()
		if !a.hold() {
			continue // retired and closed: SetAccounts has stored the next ones
		}
		id := find(a)
		if id == nil {
			a.release()
		}
		return id
	}
}

// SetAccounts puts acc in force for the logins that follow. Sessions logged
// in before keep their accounts' identities and roots; the old accounts are
// closed once the last of them has ended (or at Close). It refuses acc when
// an account needs TLS and the server has no certificate.
func (s *Server) SetAccounts(acc *Accounts) error {
	if s.cfg.TLS == nil {
		if name := acc.needsTLS(); name != "" {
			return fmt.Errorf("dtp: account %q sets tls_login or tls_data, but no TLS certificate is configured", name)
		}
	}
	old := s.acc.Swap(acc)
	if old != nil && old != acc {
		old.retire()
	}
	s.rl.changed() // the users' own bandwidth limits may have changed
	return nil
}

// SetMaxTransfers changes Config.MaxTransfers. Transfers in flight go on;
// when there are more than the new limit, new ones are refused until they
// are fewer.
func (s *Server) SetMaxTransfers(n int) { s.xfers.Resize(n) }

// SetProxyTrusted changes Config.ProxyTrusted for the data connections
// that come next.
func (s *Server) SetProxyTrusted(nets []netip.Prefix) {
	nets = slices.Clone(nets)
	s.trusted.Store(&nets)
}

// hold counts one more identity using a's roots; it fails once they are
// closed (a retired and released by all). nil (an identity made without
// accounts) holds nothing.
func (a *Accounts) hold() bool {
	if a == nil {
		return true
	}
	for {
		n := a.refs.Load()
		if n < 0 {
			return false
		}
		if a.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release ends a hold; the last one of retired accounts closes them.
func (a *Accounts) release() {
	if a == nil {
		return
	}
	if a.refs.Add(-1) == 0 && a.retired.Load() {
		a.closeUnused()
	}
}

// retire marks a replaced: it closes once nothing holds it.
func (a *Accounts) retire() {
	a.retired.Store(true)
	a.closeUnused()
}

// closeUnused closes a's roots if nothing holds them.
func (a *Accounts) closeUnused() {
	if a.refs.CompareAndSwap(0, -1) {
		a.close()
	}
}
