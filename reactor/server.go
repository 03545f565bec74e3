// Server: the gnet event handler that accepts control connections and drives their sessions.
package reactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// Config holds the reactor's settings; DefaultConfig gives every default.
type Config struct {
	Listen      string        // host:port of the control listener
	MaxLine     int           // longest command line, CRLF excluded; longer lines get 500 and are discarded
	MaxInbound  int           // unread input bytes a session may hold before it is closed
	MaxOutbound int           // unsent reply bytes after which a session's commands stop being read
	Tick        time.Duration // timer resolution for session deadlines
	Logger      *slog.Logger  // nil: slog.Default()

	MaxSessions  int           // control connections at once; beyond it 421 and close (0: no limit)
	MaxPerIP     int           // control connections from one IP address (0: no limit)
	PassivePerIP int           // sessions of one IP address that may hold a passive port (0: no limit)
	BanAfter     int           // refused passwords from one IP within BanWindow that ban it (0: never)
	BanWindow    time.Duration // how long refused passwords count towards a ban
	BanDuration  time.Duration // how long a banned address is refused
}

// DefaultConfig returns the defaults for every setting.
func DefaultConfig() Config {
	return Config{
		Listen:      "127.0.0.1:2121",
		MaxLine:     4096,
		MaxInbound:  64 << 10,
		MaxOutbound: 64 << 10,
		Tick:        250 * time.Millisecond,
		BanAfter:    10,
		BanWindow:   10 * time.Minute,
		BanDuration: 15 * time.Minute,
	}
}

// Server is the event-loop side of rftpd.
type Server struct {
	gnet.BuiltinEventEngine

	cfg  Config
	pcfg protocol.Config
	dtp  *dtp.Server
	log  *slog.Logger

	eng   gnet.Engine
	loop  atomic.Value // gnet.EventLoop, set by the first OnOpen
	ready chan struct{}
	addr  net.Addr // set before ready is closed

	// Loop-only state.
	conns    map[*conn]struct{}
	draining bool
	scratch  []byte // Telnet-stripped line, reused for each line
	guard    guard  // per-address session counts, login failures and bans

	nconns   atomic.Int64
	stopOnce sync.Once
	stop     chan struct{}
}

// New makes a server; Serve runs it.
func New(cfg Config, pcfg protocol.Config, d *dtp.Server) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{
		cfg:   cfg,
		pcfg:  pcfg,
		dtp:   d,
		log:   cfg.Logger,
		ready: make(chan struct{}),
		conns: make(map[*conn]struct{}),
		stop:  make(chan struct{}),
		guard: newGuard(cfg),
	}
}

// Serve listens and runs the event loop until Shutdown; it blocks.
func (s *Server) Serve() error {
	addrPort, err := netip.ParseAddrPort(s.cfg.Listen)
	if err != nil {
		if ap, err2 := net.ResolveTCPAddr("tcp", s.cfg.Listen); err2 == nil {
			addrPort = ap.AddrPort()
		} else {
			return fmt.Errorf("reactor: listen address %q: %v", s.cfg.Listen, err)
		}
	}
	proto := "tcp4"
	if addrPort.Addr().Is6() && !addrPort.Addr().Is4In6() {
		proto = "tcp6"
	}
	// gnet reports a failed bind without the address; check it first so the
	// error names the problem.
	if ln, err := net.Listen(proto, addrPort.String()); err != nil {
		return fmt.Errorf("reactor: %v", err)
	} else {
		ln.Close()
	}
	err = gnet.Run(s, proto+"://"+addrPort.String(),
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.log}),
	)
	s.stopOnce.Do(func() { close(s.stop) })
	if err != nil {
		return fmt.Errorf("reactor: %v", err)
	}
	return nil
}

// Ready is closed once the listener accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the listener's address; valid after Ready.
func (s *Server) Addr() net.Addr { return s.addr }

// Sessions reports the open control connections.
func (s *Server) Sessions() int { return int(s.nconns.Load()) }

// OnBoot records the engine and the real listening address.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	s.addr = listenAddr(eng)
	close(s.ready)
	go s.ticker()
	return gnet.None
}

// listenAddr asks the kernel for the listener's address (the configured port
// may be 0).
func listenAddr(eng gnet.Engine) net.Addr {
	fd, err := eng.Dup()
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)))
	case *unix.SockaddrInet6:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)))
	}
	return nil
}

// OnOpen starts a session and sends its greeting.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.loop.Load() == nil {
		s.loop.Store(c.EventLoop())
	}
	if s.draining {
		return []byte("421 Server shutting down.\r\n"), gnet.Close
	}
	info := protocol.ConnInfo{Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())}
	now := time.Now()
	ip := info.Remote.Addr()
	if refusal := s.guard.admit(ip, len(s.conns), now); refusal != "" {
		s.log.Debug("refused control connection", "remote", c.RemoteAddr(), "why", refusal)
		return []byte(refusal), gnet.Close
	}
	// Keep urgent data in line: clients send ABOR (or the DM of an
	// "IAC IP IAC DM") with MSG_OOB, which would otherwise vanish from the stream.
	_ = unix.SetsockoptInt(c.Fd(), unix.SOL_SOCKET, unix.SO_OOBINLINE, 1)
	cn := &conn{srv: s, c: c, ip: ip}
	s.guard.opened(ip)
	cn.sess = protocol.NewSession(&s.pcfg, info, now)
	cn.dsess = s.dtp.NewSession(info)
	c.SetContext(cn)
	s.conns[cn] = struct{}{}
	s.nconns.Add(1)
	out := cn.sess.TakeOutput()
	// The greeting is copied: gnet writes it after OnOpen returns, and the
	// session's buffer is only valid until the next call into it.
	greeting := append([]byte(nil), out.Reply...)
	out.Reply = nil
	cn.handle(out)
	return greeting, gnet.None
}

// OnTraffic frames and feeds the lines that arrived.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	cn, ok := c.Context().(*conn)
	if !ok {
		return gnet.Close
	}
	cn.pump(time.Now())
	return gnet.None
}

// OnClose releases the session and its data connections.
func (s *Server) OnClose(c gnet.Conn, err error) gnet.Action {
	cn, ok := c.Context().(*conn)
	if !ok {
		return gnet.None
	}
	cn.closed = true
	delete(s.conns, cn)
	s.nconns.Add(-1)
	s.guard.closed(cn.ip, cn.passive)
	s.dtp.CloseSession(cn.dsess)
	if err != nil && !errors.Is(err, unix.ECONNRESET) {
		s.log.Debug("control connection closed", "remote", c.RemoteAddr(), "err", err)
	}
	return gnet.None
}

// execute runs fn on the loop; it reports false when the engine is gone.
func (s *Server) execute(fn func()) bool {
	l, _ := s.loop.Load().(gnet.EventLoop)
	if l == nil {
		return false
	}
	return l.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		return nil
	})) == nil
}

// ticker posts a timer sweep into the loop every Tick until the server stops.
func (s *Server) ticker() {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.execute(s.sweep)
		}
	}
}

// sweep fires due session timers and resumes sessions whose replies drained.
func (s *Server) sweep() {
	now := time.Now()
	s.guard.prune(now)
	for cn := range s.conns {
		if cn.closed {
			continue
		}
		if d := cn.sess.Deadline(); !d.IsZero() && !now.Before(d) {
			cn.sess.Tick(now)
			cn.handle(cn.sess.TakeOutput())
		}
		if cn.stalled && cn.c.OutboundBuffered() <= s.cfg.MaxOutbound {
			cn.pump(now)
		}
	}
}

// Shutdown stops the server: new connections get 421, idle sessions get 421
// and are closed, transfers in flight may finish until ctx is done; then the
// rest are closed and the loop stops. It returns once Serve can return.
func (s *Server) Shutdown(ctx context.Context) error {
	select {
	case <-s.stop:
		return nil
	default:
	}
	select {
	case <-s.ready:
	case <-s.stop:
		return nil
	}
	s.execute(func() {
		s.draining = true
		now := time.Now()
		for cn := range s.conns {
			cn.sess.Shutdown(now)
			cn.handle(cn.sess.TakeOutput())
		}
	})
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
wait:
	for s.nconns.Load() > 0 {
		select {
		case <-ctx.Done():
			break wait
		case <-s.stop:
			return nil
		case <-poll.C:
		}
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.eng.Stop(stopCtx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("reactor: stop: %v", err)
	}
	return nil
}

// addrPort converts a net.Addr from gnet to a netip.AddrPort.
func addrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
