// Reload: the settings that change while the server runs, put in force on the loop.
package reactor

import (
	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/protocol"
)

// reloadSet is what one Reload asked for.
type reloadSet struct {
	cfg  Config
	pcfg protocol.Config
}

// Reload puts new settings in force without a restart:
//   - from cfg: MaxLine, MaxInbound, MaxOutbound, MaxSessions, MaxPerIP,
//     PassiveCapacity, PassivePerIP, BanAfter, BanWindow, BanDuration,
//     MaxHandshakes, HandshakeTimeout, ProxyTrusted, ProxyHeaderTimeout and
//     PassiveHosts (the others, Listeners, TLS, Tick, SendBuffer and
//     Logger among them, need a restart and are left as they are);
//   - pcfg (banner, timeouts, login failures, queue) for the sessions that
//     open from now on: open sessions keep the settings they started with.
//
// Units already held beyond a lowered limit stay held: a lower session
// limit refuses new sessions, it closes none. It returns at once; the loop
// applies the settings before it opens the next session.
func (s *Server) Reload(cfg Config, pcfg protocol.Config) {
	s.reloaded.Store(&reloadSet{cfg: cfg, pcfg: pcfg})
	s.execute(s.applyReload) // no loop yet: the first OnOpen applies it
}

// applyReload puts the last Reload's settings in force. Loop-only.
func (s *Server) applyReload() {
	r := s.reloaded.Swap(nil)
	if r == nil {
		return
	}
	n := r.cfg
	n.MaxSessions, n.PassiveCapacity = ceilings(n, s.dtp)
	c := &s.cfg
	c.MaxLine, c.MaxInbound, c.MaxOutbound = n.MaxLine, n.MaxInbound, n.MaxOutbound
	c.MaxSessions, c.MaxPerIP, c.PassiveCapacity, c.PassivePerIP = n.MaxSessions, n.MaxPerIP, n.PassiveCapacity, n.PassivePerIP
	c.BanAfter, c.BanWindow, c.BanDuration = n.BanAfter, n.BanWindow, n.BanDuration
	c.MaxHandshakes, c.HandshakeTimeout = n.MaxHandshakes, n.HandshakeTimeout
	c.ProxyTrusted, c.ProxyHeaderTimeout, c.PassiveHosts = n.ProxyTrusted, n.ProxyHeaderTimeout, n.PassiveHosts
	g := &s.guard
	g.maxPerIP, g.passivePerIP = n.MaxPerIP, n.PassivePerIP
	g.banAfter, g.banWindow, g.banFor = n.BanAfter, n.BanWindow, n.BanDuration
	g.sessions.Resize(n.MaxSessions)
	g.passive.Resize(n.PassiveCapacity)
	g.handshakes.Resize(n.MaxHandshakes)
	p, pi := r.pcfg, r.pcfg
	p.Implicit, pi.Implicit = false, true
	p.Meter, pi.Meter = s.meter, s.meter
	s.pcfg, s.pcfgImpl = &p, &pi
}

// ceilings are cfg's session and passive listener limits; without limits
// of their own, sessions and passive listeners are shared up to what the
// descriptor budget lets them hold.
func ceilings(cfg Config, d *dtp.Server) (sessions, passive int) {
	sessions, passive = cfg.MaxSessions, cfg.PassiveCapacity
	if fds := d.Descriptors(); fds != nil {
		if sessions == 0 {
			sessions = fds.Ceiling(fair.Session)
		}
		if passive == 0 {
			passive = fds.Ceiling(fair.Passive)
		}
	}
	return sessions, passive
}
