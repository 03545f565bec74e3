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
	gneterrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/pool/goroutine"
	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/dtp/proxy"
	"github.com/rftpd/rftpd/protocol"
)

// Config holds the reactor's settings; DefaultConfig gives every default.
type Config struct {
	// Listeners are the control listeners. Empty: one plain listener on
	// Listen, and an implicit-TLS one on ImplicitListen if set.
	Listeners   []Listener
	Listen      string        // host:port of the control listener (without Listeners)
	MaxLine     int           // longest command line, CRLF excluded; longer lines get 500 and are discarded
	MaxInbound  int           // unread input bytes a session may hold before it is closed
	MaxOutbound int           // unsent reply bytes after which a session's commands stop being read
	SendBuffer  int           // kernel send buffer (SO_SNDBUF) of each control connection; 0: the kernel's autotuning
	Tick        time.Duration // timer resolution for session deadlines
	Logger      *slog.Logger  // nil: slog.Default()

	// Bound, if set, is called by Serve once every listener is bound and
	// before the first connection is accepted or the event loop starts
	// (rftpd drops root privileges there). An error ends Serve with it,
	// the listeners closed, before Ready.
	Bound func() error

	// Sessions, passive listeners and TLS handshakes are shared fairly
	// between client addresses (guard.go, fair.Share) and take their
	// descriptors from the DTP's budget (dtp.Server.Descriptors): a
	// session that finds it short gets 421 at connect.
	MaxSessions     int           // control connections at once; beyond it 421 and close (0: no limit)
	MaxPerIP        int           // control connections from one IP address (or IPv6 /64) at most (0: no cap beyond the fair share)
	PassiveCapacity int           // passive listeners the fair shares divide (the passive port range's size; 0: no limit)
	PassivePerIP    int           // sessions of one IP address that may hold a passive listener at most (0: no cap beyond the fair share)
	BanAfter        int           // refused passwords from one IP within BanWindow that ban it (0: never)
	BanWindow       time.Duration // how long refused passwords count towards a ban
	BanDuration     time.Duration // how long a banned address is refused

	// FTPS. TLS nil: plain FTP only (the session's protocol.Config.TLS must
	// agree). ImplicitListen: a second listener where TLS starts at connect
	// ("": none). Handshakes run off the loop, at most MaxHandshakes at once
	// (beyond it the connection is closed), each within HandshakeTimeout.
	TLS              *dtp.TLS
	ImplicitListen   string
	HandshakeTimeout time.Duration
	MaxHandshakes    int

	// PROXY protocol (proxy.go): the networks of the load balancers whose
	// headers are believed, and how long one may take to arrive.
	ProxyTrusted       []netip.Prefix
	ProxyHeaderTimeout time.Duration
	// PassiveHosts: the address PASV/EPSV announce to clients of given
	// networks (the first rule whose networks hold the client's address),
	// ahead of a listener's PublicHost and the DTP's.
	PassiveHosts []PassiveHost

	loopDeadline time.Duration // see Server.loopDeadline; 0: 30 s (tests set it)
}

// Listener is one control listener.
type Listener struct {
	Address     string     // host:port
	ImplicitTLS bool       // TLS from the first byte (needs Config.TLS)
	Proxy       ProxyMode  // PROXY protocol headers on its connections
	ProxyData   bool       // passive data connections come through the balancer too, with a header each
	PublicHost  netip.Addr // PASV/EPSV address for its sessions (invalid: the DTP's PublicHost, else the local address)
}

// PassiveHost is the passive address for clients of some networks.
type PassiveHost struct {
	Networks []netip.Prefix
	Host     netip.Addr
}

// DefaultConfig returns the defaults for every setting.
func DefaultConfig() Config {
	return Config{
		Listen:      "127.0.0.1:2121",
		MaxLine:     4096,
		MaxInbound:  64 << 10,
		MaxOutbound: 64 << 10,
		SendBuffer:  64 << 10,
		Tick:        250 * time.Millisecond,
		BanAfter:    10,
		BanWindow:   10 * time.Minute,
		BanDuration: 15 * time.Minute,

		HandshakeTimeout: 10 * time.Second,
		MaxHandshakes:    1024,

		ProxyHeaderTimeout: 5 * time.Second,
	}
}

// Server is the event-loop side of rftpd.
type Server struct {
	gnet.BuiltinEventEngine

	cfg      Config
	pcfg     *protocol.Config          // for new sessions; Reload replaces it (sessions keep theirs)
	pcfgImpl *protocol.Config          // sessions of the implicit-TLS listener
	reloaded atomic.Pointer[reloadSet] // settings Reload asked for, not yet applied on the loop
	dtp      *dtp.Server
	log      *slog.Logger
	meter    *meter // counters (metrics.go); the sessions' protocol.Meter

	cli       *gnet.Client // the engine: one event loop, fed by the acceptors
	acceptors []*acceptor  // the listeners (accept.go)
	reserve   reserve      // a spare descriptor for when accept finds none
	loop      atomic.Value // gnet.EventLoop, set by the first OnOpen
	ready     chan struct{}
	addr      net.Addr // set before ready is closed
	iaddr     net.Addr // the implicit-TLS listener's, when there is one

	// loopDeadline: an acceptor that waited this long, twice, for the loop
	// to take a connection declares it dead (accept.go).
	loopDeadline time.Duration
	quit         chan struct{} // closed to end Serve
	quitOnce     sync.Once
	dead         chan struct{} // closed when the loop is gone
	deadOnce     sync.Once

	// Loop-only state.
	conns      map[*conn]struct{}
	draining   bool
	scratch    []byte // Telnet-stripped line, reused for each line
	tlsScratch []byte // decrypted records, before they are appended to a session's input
	corked     *conn  // the connection whose replies are being collected (conn.cork)
	corkBuf    []byte // its replies so far
	guard      guard  // per-address session counts, login failures and bans

	// Session timers (timers.go). Loop-only, except timer and sweeps.
	epoch  time.Time   // tick 0
	timers timerHeap   // the connections waiting for a tick
	due    []*conn     // a sweep's connections, reused
	timer  *time.Timer // set for tick armed; runs fire
	armed  int64       // -1: the timer is not set
	swept  int64       // the last tick a sweep has run for
	sweeps atomic.Int64

	// Stalled sessions (stall.go). Loop-only, except stallTimer and
	// stallPolls.
	stalls     []*conn
	stallSpare []*conn
	stallTimer *time.Timer
	stallWait  time.Duration // what stallTimer was last set for
	stallArmed bool
	stallPolls atomic.Int64

	// Balancers' connections waiting for their PROXY header (proxy.go), in
	// the order they came, which is their deadlines' order. Loop-only,
	// except headerTimer.
	headerQ     []*headerWait
	headerHead  int
	headerTimer *time.Timer

	nconns   atomic.Int64
	trim     *trimmer // gives memory back after handshake bursts
	stopOnce sync.Once
	stop     chan struct{}
	stopping atomic.Bool // Shutdown was called
}

// New makes a server; Serve runs it.
func New(cfg Config, pcfg protocol.Config, d *dtp.Server) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultConfig().Tick
	}
	m := &meter{}
	pcfg.Meter = m
	pimpl := pcfg
	pimpl.Implicit = true
	cfg.MaxSessions, cfg.PassiveCapacity = ceilings(cfg, d)
	s := &Server{
		meter:      m,
		cfg:        cfg,
		pcfg:       &pcfg,
		pcfgImpl:   &pimpl,
		tlsScratch: make([]byte, 16<<10),
		dtp:        d,
		log:        cfg.Logger,
		ready:      make(chan struct{}),
		conns:      make(map[*conn]struct{}),
		stop:       make(chan struct{}),
		quit:       make(chan struct{}),
		dead:       make(chan struct{}),
		guard:      newGuard(cfg),
		trim:       newTrimmer(),
		epoch:      time.Now(),
		armed:      -1,

		loopDeadline: cfg.loopDeadline,
	}
	if s.loopDeadline <= 0 {
		s.loopDeadline = 30 * time.Second
	}
	s.timer = time.AfterFunc(maxArm, s.fire)
	s.timer.Stop()
	s.stallTimer = time.AfterFunc(time.Hour, s.fireStallPoll)
	s.stallTimer.Stop()
	s.headerTimer = time.AfterFunc(time.Hour, func() { s.executeLive(s.sweepHeaders) })
	s.headerTimer.Stop()
	return s
}

// Serve listens and runs the event loop until Shutdown; it blocks. It
// returns ErrStopped if the loop ends by itself.
func (s *Server) Serve() error {
	// However Serve ends, a Shutdown waiting for Ready returns: it also
	// waits on stop, closed here when Serve fails before the loop runs.
	defer s.stopOnce.Do(func() { close(s.stop) })
	lcfgs := s.cfg.Listeners
	if len(lcfgs) == 0 {
		lcfgs = []Listener{{Address: s.cfg.Listen}}
		if s.cfg.ImplicitListen != "" {
			lcfgs = append(lcfgs, Listener{Address: s.cfg.ImplicitListen, ImplicitTLS: true})
		}
	}
	var err error
	for _, lc := range lcfgs {
		if lc.ImplicitTLS && s.cfg.TLS == nil {
			err = errors.New("reactor: an implicit-TLS listener needs a certificate")
		} else {
			var a *acceptor
			if a, err = s.listen(lc); err == nil {
				s.acceptors = append(s.acceptors, a)
				if lc.ImplicitTLS && s.iaddr == nil {
					s.iaddr = a.addr
				} else if !lc.ImplicitTLS && s.addr == nil {
					s.addr = a.addr
				}
				continue
			}
			err = fmt.Errorf("reactor: %v", err)
		}
		for _, a := range s.acceptors {
			a.ln.Close()
		}
		return err
	}
	closeAll := func() {
		for _, a := range s.acceptors {
			a.ln.Close()
		}
	}
	if s.cfg.Bound != nil {
		if err := s.cfg.Bound(); err != nil {
			closeAll()
			return err
		}
	}
	// gnet's package-level goroutine pool serves only Engine.Register,
	// which rftpd does not use, yet its clock and purge timers wake the
	// process twice a second for as long as it runs: it is closed.
	goroutine.DefaultWorkerPool.Release()
	// A gnet "client" is an engine without listeners of its own: the
	// acceptors enroll connections on its one loop.
	cli, err := gnet.NewClient(s,
		gnet.WithMulticore(false),
		gnet.WithNumEventLoop(1),
		// Go's accept has set TCP_NODELAY already; this only keeps gnet
		// from setting it a second time.
		gnet.WithTCPNoDelay(gnet.TCPDelay),
		gnet.WithLogger(gnetLogger{s.log}),
	)
	if err != nil {
		closeAll()
		return fmt.Errorf("reactor: %v", err)
	}
	s.cli = cli
	s.reserve.open()
	if err := cli.Start(); err != nil { // runs OnBoot
		closeAll()
		s.reserve.close()
		return fmt.Errorf("reactor: %v", err)
	}
	var wg sync.WaitGroup
	for _, a := range s.acceptors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run()
		}()
	}
	select {
	case <-s.quit:
	case <-s.dead:
		err = ErrStopped
	}
	closeAll()
	s.quitOnce.Do(func() { close(s.quit) })
	if err == nil {
		// (With the loop gone, an acceptor may wait for it forever.)
		wg.Wait()
	}
	if serr := cli.Stop(); serr != nil && err == nil && !errors.Is(serr, gneterrors.ErrEngineShutdown) {
		err = fmt.Errorf("reactor: stop: %v", serr)
	}
	s.reserve.close()
	s.stopOnce.Do(func() { close(s.stop) })
	s.timer.Stop()
	s.stallTimer.Stop()
	s.headerTimer.Stop()
	return err
}

// Ready is closed once the listener accepts connections.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the first plain listener's address (nil without one); valid
// after Ready.
func (s *Server) Addr() net.Addr { return s.addr }

// Listeners reports each listener's address and whether it is implicit
// TLS, in the order configured; valid after Ready.
func (s *Server) Listeners() []ListenerAddr {
	out := make([]ListenerAddr, len(s.acceptors))
	for i, a := range s.acceptors {
		out[i] = ListenerAddr{Addr: a.addr, ImplicitTLS: a.cfg.ImplicitTLS}
	}
	return out
}

// ListenerAddr is a bound listener.
type ListenerAddr struct {
	Addr        *net.TCPAddr
	ImplicitTLS bool
}

// ImplicitAddr is the first implicit-TLS listener's address (nil without
// one); valid after Ready.
func (s *Server) ImplicitAddr() net.Addr { return s.iaddr }

// Sessions reports the open control connections.
func (s *Server) Sessions() int { return int(s.nconns.Load()) }

// OnBoot reports the server ready: its listeners are bound already.
func (s *Server) OnBoot(gnet.Engine) gnet.Action {
	close(s.ready)
	if s.cfg.TLS != nil {
		free := s.trim.free
		s.trim.free = func() {
			start := time.Now()
			free()
			s.log.Debug("returned free memory to the system after a burst of TLS handshakes", "took", time.Since(start))
		}
		go s.trim.run(s.stop, func() bool { return s.guard.handshakes.Used() > 0 })
	}
	return gnet.None
}

// OnOpen starts a session and sends its greeting.
func (s *Server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.loop.Load() == nil {
		s.loop.Store(c.EventLoop())
	}
	if s.reloaded.Load() != nil {
		s.applyReload()
	}
	from := listenerOf(c)
	if from == nil { // not from an acceptor
		return nil, gnet.Close
	}
	info := protocol.ConnInfo{Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())}
	sniff := false
	if from.cfg.Proxy != ProxyOff {
		if proxy.Trusted(s.cfg.ProxyTrusted, info.Remote.Addr()) {
			return s.awaitHeader(c, from)
		}
		if from.cfg.Proxy == ProxyRequired {
			s.log.Warn("PROXY: connection from an address not trusted to send headers closed", "remote", info.Remote, "listen", from.addr)
			return nil, gnet.Close
		}
		sniff = true // served directly, but a header from it is refused
	}
	return s.open(c, from, info, info.Local.Addr(), sniff)
}

// open starts the session of a connection from info.Remote that reached
// info.Local, on a socket bound to bind, and returns its greeting (or a
// refusal and gnet.Close). sniff: close it if it starts with a PROXY
// header, which its address may not send.
func (s *Server) open(c gnet.Conn, from *acceptor, info protocol.ConnInfo, bind netip.Addr, sniff bool) ([]byte, gnet.Action) {
	implicit := from.cfg.ImplicitTLS
	// A refusal is a plain-text reply; an implicit-TLS client could not read
	// it, so it only sees the connection close.
	refuse := func(text string) ([]byte, gnet.Action) {
		if implicit {
			return nil, gnet.Close
		}
		return []byte(text), gnet.Close
	}
	if s.draining {
		s.meter.refused[refuseDraining].Add(1)
		return refuse("421 Server shutting down.\r\n")
	}
	now := time.Now()
	ip := info.Remote.Addr()
	fds := s.dtp.Descriptors()
	if !fds.Take(fair.Session, ip, 1) {
		s.log.Debug("refused control connection: descriptors are short", "remote", info.Remote, "used", fds.Used())
		return refuse("421 Too many connections; try again later.\r\n")
	}
	if refusal := s.guard.admit(ip, now, s.meter); refusal != "" {
		fds.Give(ip, 1)
		s.log.Debug("refused control connection", "remote", info.Remote, "why", refusal)
		return refuse(refusal)
	}
	// Keep urgent data in line: clients send ABOR (or the DM of an
	// "IAC IP IAC DM") with MSG_OOB, which would otherwise vanish from the stream.
	_ = unix.SetsockoptInt(c.Fd(), unix.SOL_SOCKET, unix.SO_OOBINLINE, 1)
	cn := &conn{srv: s, c: c, ip: ip, remote: info.Remote, sniff: sniff}
	pcfg := s.pcfg
	if implicit {
		pcfg = s.pcfgImpl
	}
	cn.sess = protocol.NewSession(pcfg, info, now)
	cn.dsess = s.dtp.NewSessionVia(info, dtp.Via{
		Bind:      bind,
		Announce:  s.announce(from, ip),
		ProxyData: from.cfg.ProxyData,
	})
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

// announce picks the passive address for a client at ip on from: the
// first PassiveHosts rule for its network, else the listener's PublicHost
// (invalid: the DTP's choice).
func (s *Server) announce(from *acceptor, ip netip.Addr) netip.Addr {
	for _, r := range s.cfg.PassiveHosts {
		if proxy.Trusted(r.Networks, ip) {
			return r.Host
		}
	}
	return from.cfg.PublicHost
}

// OnTraffic frames and feeds the lines that arrived.
func (s *Server) OnTraffic(c gnet.Conn) gnet.Action {
	cn, ok := c.Context().(*conn)
	if !ok {
		if h, ok := c.Context().(*headerWait); ok {
			return s.headerTraffic(h)
		}
		return gnet.Close
	}
	if cn.sniff {
		if closeIt, wait := cn.sniffed(); closeIt {
			return gnet.Close
		} else if wait {
			return gnet.None
		}
	}
	if cn.tls != nil && !cn.tlsTraffic() {
		return gnet.None
	}
	cn.pump(time.Now())
	return gnet.None
}

// OnClose releases the session and its data connections.
func (s *Server) OnClose(c gnet.Conn, err error) gnet.Action {
	cn, ok := c.Context().(*conn)
	if !ok {
		if h, ok := c.Context().(*headerWait); ok {
			h.release()
		}
		return gnet.None
	}
	cn.closed = true
	if cn.tls != nil {
		cn.tls.pipe.Close() // ends a handshake still waiting for input
	}
	cn.unschedule()
	delete(s.conns, cn)
	s.nconns.Add(-1)
	s.guard.closed(cn.ip, cn.passive)
	s.dtp.Descriptors().Give(cn.ip, 1)
	s.dtp.CloseSession(cn.dsess)
	if err != nil && !errors.Is(err, unix.ECONNRESET) {
		s.log.Debug("control connection closed", "remote", cn.remote, "err", err)
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

// Shutdown stops the server: new connections get 421, idle sessions get 421
// and are closed, transfers in flight may finish until ctx is done; then the
// rest are closed and the loop stops. It returns once Serve can return.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopping.Store(true)
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
	s.quitOnce.Do(func() { close(s.quit) })
	select {
	case <-s.stop:
	case <-time.After(5 * time.Second):
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
