// The DTP's surface towards the reactor.
package dtp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/protocol"
)

// Config holds the DTP's settings; DefaultConfig gives every default.
type Config struct {
	PassiveLow, PassiveHigh uint16     // passive port range; 0,0: an ephemeral port
	PublicHost              netip.Addr // address announced by PASV/EPSV; invalid: the control connection's local address
	// PassiveShared: with a port range, each port has one listener that
	// serves every session at once (shared.go), instead of a listener per
	// passive request.
	PassiveShared bool
	FSWorkers     int // storage and listener workers
	FSQueue       int // storage requests waiting for a worker; beyond it ErrBusy
	AuthWorkers   int // password-check workers
	AuthQueue     int // password checks waiting; beyond it ErrBusy
	MaxTransfers  int // data transfers at once (each its own goroutine), shared fairly between client addresses; beyond it ErrBusy

	// HashWorkers is how many checksums (HASH, XMD5, ...) are computed at
	// once, each on a worker of its own; HashQueue how many more may wait
	// (beyond it ErrBusy). HashRate caps the bytes a second all hashes
	// read together, HashRatePerSession those of one session's hashes
	// (0: no cap). hash.go says why hashing has a pool of its own.
	HashWorkers        int
	HashQueue          int
	HashRate           int64
	HashRatePerSession int64

	// OpenFiles is the open-file limit (RLIMIT_NOFILE) that the
	// descriptor budget is made from (fair.Budget): passive listeners and
	// transfers take their descriptors from it and are refused with
	// ErrBusy when it runs short, and the reactor takes the sessions'.
	// 0: no budget.
	OpenFiles int
	// DataUnsent bounds the bytes not yet sent that a download's data
	// connection may queue in the kernel (TCP_NOTSENT_LOWAT), so that slow
	// readers pin little kernel memory; 0: no bound.
	DataUnsent int
	// SendThreads bounds the fast downloads sent by blocking sendfile
	// calls, each holding a thread while it waits (lane.go); 0: all wait
	// in the netpoller.
	SendThreads   int
	StatListMax   int // bytes of a STAT <path> listing before it is cut short
	IdleListeners int // passive listeners kept open for reuse after their transfer (lnpool.go); 0: none
	// ListSortMax: a listing (LIST, NLST, MLSD, STAT) of a folder with at
	// most this many entries to show is sorted by name (byte order, as ls
	// in the C locale); the names are held until the scan ends. A larger
	// folder streams in the order the file system returns, so a listing
	// never holds more than this many names. 0: never sort.
	ListSortMax int
	// AtomicUploads makes STOR (without REST) write to a hidden temporary
	// file in the target's directory and rename it over the target only
	// when all the data has arrived: an aborted or failed upload leaves the
	// old file as it was and nothing behind. APPE and REST+STOR always
	// write in place; STOU's new file is removed when its upload fails.
	AtomicUploads bool
	// DurableUploads makes an upload's 226 mean that it is on stable
	// storage: the file's data is fdatasync'ed once all of it has arrived
	// (before an atomic upload's rename), and its folder fsync'ed after
	// the rename, or after an in-place upload that made a new file. Both
	// run on the transfer's goroutine. A failure is an upload error, and
	// leaves an atomic upload's target as it was when it is the data's.
	DurableUploads bool
	// CleanStaleUploads makes New start a walk, in the background, of
	// every root an account may write to, removing the temporary files of
	// atomic uploads that died with their process (cleanup.go says how a
	// live upload's file, of this or another instance sharing the tree, is
	// told apart and kept). OnCleanup, when set, gets a report per root
	// from the walk's goroutine.
	CleanStaleUploads bool
	OnCleanup         func(CleanupReport)
	// StatCache is how long a stat a worker made (SIZE, MDTM, MLST, ...)
	// answers the same question again on the loop (statcache.go); changes
	// made through the server are seen at once, others after this long.
	// 0: every stat goes to a worker.
	StatCache time.Duration
	// ListCache is how many bytes of listings (LIST, NLST, MLSD of a
	// folder) are kept to be sent again, for as long and under the same
	// rule as the stat cache keeps a stat (listcache.go); 0, or StatCache
	// 0: every listing reads its folder.
	ListCache int

	// OpHook, when set, is called before every storage operation with the
	// operation's name ("stat", "open", "list", "mkdir", "write", "sync",
	// "commit", "syncdir", ...; doc.go lists them); tests use it to delay or fail
	// storage. It returns an error to fail the operation.
	OpHook func(op string) error
	// ActivePort is the source port of active data connections: 0, the
	// control connection's local port minus one (RFC 959 §3.2: 20 beside
	// 21); -1, any port; else that port. When it cannot be bound the
	// connection comes from any port and OnActiveFallback, when set, is
	// called (on the transfer's goroutine) with the port and the error.
	ActivePort       int
	OnActiveFallback func(port uint16, err error)
	// OnForeignData, when set, is called (on the transfer's goroutine) for
	// every connection to a passive port that came from an address other
	// than the control connection's; that connection has been closed and
	// the transfer keeps waiting for the right client. ForeignData counts them.
	OnForeignData func(control, data netip.AddrPort)
	// Audit, when set, gets a record of every login attempt, storage
	// change and transfer (audit.go); it must not block.
	Audit Audit
	// ProxyTrusted: the networks whose PROXY headers on passive data
	// connections are believed (for sessions with Via.ProxyData).
	ProxyTrusted []netip.Prefix
	// ProxyTimeout bounds the wait for a data connection's PROXY header
	// (0: 5 s).
	ProxyTimeout time.Duration

	// TLS is the FTPS certificate and settings; nil: no FTPS, and the
	// TLS* settings below have no effect (an account's own tls_login or
	// tls_data = true is refused by New instead).
	TLS *TLS
	// Listener defaults for logins, each overridden per account by the
	// accounts file (tls_login, tls_data, tls_reuse). TLSLoginAccounts:
	// accounts must log in over a protected control connection (else
	// EvLogin.Err is protocol.ErrTLSRequired); TLSLoginAnonymous: the same
	// for anonymous logins. TLSDataAccounts and TLSDataAnonymous: the
	// login must protect its data connections (EvLogin.TLSData).
	TLSLoginAccounts  bool
	TLSLoginAnonymous bool
	TLSDataAccounts   bool
	TLSDataAnonymous  bool
	// TLSReuse: a protected data connection must resume the TLS session of
	// its control connection (see TLS), else the transfer fails with
	// protocol.ErrTLSReuse. On by default; Python's ftplib never resumes.
	TLSReuse bool
	// TLSHandshakeTimeout bounds the TLS handshake of a protected data
	// connection, counted from its accept or connect. (The session's own
	// data connection timeout runs too, until EvTransferStart.)
	TLSHandshakeTimeout time.Duration

	// Rates are the bandwidth limits (ratelimit.go); the zero value has
	// none. SetRates changes them.
	Rates Rates
}

// DefaultConfig returns the defaults for every setting.
func DefaultConfig() Config {
	return Config{
		FSWorkers:      16,
		FSQueue:        1024,
		AuthWorkers:    2,
		AuthQueue:      1024,
		MaxTransfers:   1024,
		DataUnsent:     256 << 10,
		SendThreads:    16,
		StatListMax:    64 << 10,
		ListSortMax:    10000,
		IdleListeners:  64,
		StatCache:      time.Second,
		ListCache:      4 << 20,
		AtomicUploads:  true,
		DurableUploads: true,

		CleanStaleUploads: true,

		HashWorkers:        2,
		HashQueue:          64,
		HashRate:           512 << 20,
		HashRatePerSession: 128 << 20,

		TLSReuse:            true,
		TLSHandshakeTimeout: 30 * time.Second,
	}
}

// check reports the first setting that cannot work.
func (c *Config) check() error {
	switch {
	case c.FSWorkers < 1:
		return errors.New("dtp: config: FSWorkers must be at least 1")
	case c.AuthWorkers < 1:
		return errors.New("dtp: config: AuthWorkers must be at least 1")
	case c.HashWorkers < 1:
		return errors.New("dtp: config: HashWorkers must be at least 1")
	case c.HashQueue < 0 || c.HashRate < 0 || c.HashRatePerSession < 0:
		return errors.New("dtp: config: HashQueue, HashRate and HashRatePerSession must not be negative")
	case c.FSQueue < 0 || c.AuthQueue < 0:
		return errors.New("dtp: config: FSQueue and AuthQueue must not be negative")
	case c.MaxTransfers < 1:
		return errors.New("dtp: config: MaxTransfers must be at least 1")
	case c.SendThreads < 0:
		return errors.New("dtp: config: SendThreads must not be negative")
	case c.IdleListeners < 0:
		return errors.New("dtp: config: IdleListeners must not be negative")
	case c.StatListMax < 1:
		return errors.New("dtp: config: StatListMax must be at least 1")
	case c.ListSortMax < 0:
		return errors.New("dtp: config: ListSortMax must not be negative")
	case c.ListCache < 0:
		return errors.New("dtp: config: ListCache must not be negative")
	case (c.PassiveLow == 0) != (c.PassiveHigh == 0):
		return errors.New("dtp: config: PassiveLow and PassiveHigh must both be set or both be 0")
	case c.PassiveLow > c.PassiveHigh:
		return errors.New("dtp: config: PassiveLow is above PassiveHigh")
	case c.Rates.Download < 0 || c.Rates.Upload < 0 || c.Rates.DownloadPerIP < 0 || c.Rates.UploadPerIP < 0 ||
		c.Rates.DownloadPerSession < 0 || c.Rates.UploadPerSession < 0:
		return errors.New("dtp: config: Rates must not be negative")
	case c.TLS != nil && c.TLSHandshakeTimeout <= 0:
		return errors.New("dtp: config: TLSHandshakeTimeout must be positive")
	}
	return nil
}

// Server runs the DTP's worker pools for every session.
type Server struct {
	cfg      Config
	acc      atomic.Pointer[Accounts] // replaced by SetAccounts (reload.go)
	trusted  atomic.Pointer[[]netip.Prefix]
	fs       *pool         // storage operations, STAT listings, passive listeners
	auth     *pool         // password checks
	xfers    *fair.Share   // transfers in flight, each on its own goroutine, by client address
	fds      *fair.Budget  // descriptors; nil: not counted
	runner   *warm         // the transfers' goroutines
	lanes    *lanes        // downloads in blocking sendfile calls (lane.go)
	statc    *statCache    // recent stats, for StatNow (statcache.go); nil: off
	listc    *listCache    // recent listings (listcache.go); nil: off
	statHits atomic.Uint64 // stats answered from statc
	cursor   atomic.Uint32 // next passive port to try, as an offset into the range
	eph      [2]uint16     // the system's ephemeral port range, for listeners without a configured range
	foreign  atomic.Uint64 // data connections refused for coming from the wrong address
	// Handshakes of protected data connections, by result (Stats).
	dataTLSOK, dataTLSFailed atomic.Uint64
	lns                      lnPool    // idle passive listeners
	rl                       rateState // bandwidth limits (ratelimit.go)

	muxMu       sync.Mutex
	muxes       map[muxKey]*portMux // shared passive ports (shared.go), opened as needed
	muxClosed   bool
	headerReads chan struct{} // a slot per PROXY header being read on a shared port

	instance string  // this Server's tag in temporary upload names (cleanup.go)
	clean    cleaner // the start-up clean-up of dead instances' temporary files

	hashes   *pool                    // checksums (hash.go)
	hashCaps atomic.Pointer[hashCaps] // the caps on hashes' reads (SetHashRates replaces them)
	hashed   atomic.Int64             // bytes read by hashes
}

// Session is the DTP side of one control connection: its identity and root
// after login, its pending passive listener or active address, and the
// transfer in flight. Its methods are safe from any goroutine.
type Session struct {
	srv  *Server
	info protocol.ConnInfo
	via  Via

	mu     sync.Mutex
	id     *identity      // nil until a login succeeds
	ln     *listener      // pending passive listener
	active netip.AddrPort // pending active address (valid when set)
	xfer   *transfer      // transfer in flight
	closed bool           // CloseSession was called
	tag    []byte         // the control connection's TLS tag (SetControlTLS); kept by REIN

	hashing    *hashJob    // hash in flight (hash.go)
	hashRate   *byteBucket // this session's hashes' reads; nil until its first capped hash
	hashRateOf int64       // the rate hashRate was made for
}

// New starts the worker pools. acc may be nil: no one can log in.
func New(cfg Config, acc *Accounts) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if acc == nil {
		acc = NewAccounts()
	}
	if cfg.TLS == nil {
		if name := acc.needsTLS(); name != "" {
			return nil, fmt.Errorf("dtp: account %q sets tls_login or tls_data, but no TLS certificate is configured", name)
		}
	}
	s := &Server{cfg: cfg, instance: newInstance(), headerReads: make(chan struct{}, maxHeaderReads)}
	s.acc.Store(acc)
	s.trusted.Store(&cfg.ProxyTrusted)
	s.SetRates(cfg.Rates)
	s.eph[0], s.eph[1] = ephemeralRange()
	s.fs = newPool(cfg.FSWorkers, cfg.FSQueue)
	s.auth = newPool(cfg.AuthWorkers, cfg.AuthQueue)
	s.hashes = newPool(cfg.HashWorkers, cfg.HashQueue)
	s.SetHashRates(cfg.HashRate, cfg.HashRatePerSession)
	s.xfers = fair.NewShare(cfg.MaxTransfers)
	s.fds = fair.NewBudget(cfg.OpenFiles, openDescriptors(), fair.Margin(cfg.FSWorkers))
	s.runner = newWarm(min(cfg.MaxTransfers, warmMax), warmIdle)
	s.lanes = newLanes(cfg.SendThreads)
	if cfg.OpHook == nil { // a hook sees every operation: none is answered from the cache
		s.statc = newStatCache(cfg.StatCache)
		s.listc = newListCache(s.statc, cfg.ListCache)
	}
	if canReuseListeners {
		s.lns.max = cfg.IdleListeners
	}
	if roots := acc.writableRoots(); cfg.CleanStaleUploads && len(roots) > 0 {
		s.startCleanup(roots, cfg.OnCleanup)
	}
	return s, nil
}

// NewSession makes the DTP state for a new control connection.
func (s *Server) NewSession(info protocol.ConnInfo) *Session {
	return s.NewSessionVia(info, Via{})
}

// Via says how a control connection reached the server where that is more
// than its ConnInfo: through a load balancer, whose PROXY header gave
// ConnInfo's addresses, or with a passive address of its own.
type Via struct {
	// Bind is the control socket's own address, where passive listeners
	// listen and active connections start (invalid: ConnInfo.Local's).
	Bind netip.Addr
	// Announce is the address PASV and EPSV name (invalid:
	// Config.PublicHost, else ConnInfo.Local's).
	Announce netip.Addr
	// ProxyData: passive data connections come through the balancer too,
	// each starting with a PROXY header from a Config.ProxyTrusted address
	// that names the session's client.
	ProxyData bool
}

// NewSessionVia is NewSession for a connection that came as via says.
func (s *Server) NewSessionVia(info protocol.ConnInfo, via Via) *Session {
	return &Session{srv: s, info: info, via: via}
}

// bind is where the session's data connections start on this host.
func (sess *Session) bind() netip.Addr {
	if sess.via.Bind.IsValid() {
		return sess.via.Bind.Unmap()
	}
	return sess.info.Local.Addr().Unmap()
}

// SetControlTLS records that the session's control connection is
// protected by TLS, with the tag given to TLS.ControlConfig for it
// (NewTag). Protected data connections then resume only that connection's
// sessions. The reactor calls it when the control connection's handshake
// completes, and again after any later one with the new tag. A REIN
// (ReqLogout) keeps it. It is safe from any goroutine.
func (sess *Session) SetControlTLS(tag []byte) {
	tag = bytes.Clone(tag)
	sess.mu.Lock()
	sess.tag = tag
	sess.mu.Unlock()
}

// Do runs req for sess without blocking the caller: on a worker, or inline
// for ReqAbort, ReqActive and ReqLogout, which only close sockets and set
// state. post is called with each event that answers req (see protocol's
// request docs), from any goroutine, in order; when a pool is full it is
// called with the answering event carrying protocol.ErrBusy.
//
// post may run before Do returns, on the caller's goroutine: refusals
// (ErrBusy) and anonymous logins are answered inline. post must therefore
// only hand the event over (gnet's Execute), never call back into the
// protocol session directly. Events answering one request are posted from
// one goroutine, in order (EvTransferStart before EvTransferDone).
func (s *Server) Do(sess *Session, req protocol.Request, post func(protocol.Event)) {
	switch r := req.(type) {
	case protocol.ReqLogin:
		s.login(sess, r, post)
	case *protocol.ReqLogin:
		s.login(sess, *r, post)
	case protocol.ReqFile:
		s.fileOp(sess, r, post)
	case *protocol.ReqFile:
		s.fileOp(sess, *r, post)
	case protocol.ReqStatList:
		s.statList(sess, r, post)
	case *protocol.ReqStatList:
		s.statList(sess, *r, post)
	case protocol.ReqPassive:
		s.passive(sess, post)
	case *protocol.ReqPassive:
		s.passive(sess, post)
	case protocol.ReqActive:
		sess.setActive(r.Addr)
	case *protocol.ReqActive:
		sess.setActive(r.Addr)
	case protocol.ReqTransfer:
		s.startTransfer(sess, r, post)
	case *protocol.ReqTransfer:
		s.startTransfer(sess, *r, post)
	case protocol.ReqHash:
		s.hash(sess, r, post)
	case *protocol.ReqHash:
		s.hash(sess, *r, post)
	case protocol.ReqAbort, *protocol.ReqAbort:
		sess.abort()
	case protocol.ReqLogout, *protocol.ReqLogout:
		sess.logout()
	default:
		// A request type added to protocol without a runner here: a
		// programming error, found by the first test that sends it.
		panic(fmt.Sprintf("dtp: unknown request type %T", req))
	}
}

// CloseSession aborts sess's transfer and closes its listener; it does not
// block. Events still posted afterwards must be ignored by the caller.
func (s *Server) CloseSession(sess *Session) {
	sess.mu.Lock()
	sess.closed = true
	sess.mu.Unlock()
	sess.logout()
}

// Transfers reports the data transfers in flight (including set-up). A
// transfer stops counting just before its EvTransferDone is posted.
func (s *Server) Transfers() int { return s.xfers.Used() }

// Descriptors is the descriptor budget (nil without Config.OpenFiles):
// the reactor takes its sessions' descriptors from it (fair.Session).
func (s *Server) Descriptors() *fair.Budget {
	if s == nil {
		return nil
	}
	return s.fds
}

// IdleListeners reports the passive listeners kept open for reuse (at most
// Config.IdleListeners; each holds a descriptor).
func (s *Server) IdleListeners() int { return s.lns.idleCount() }

// IdleTransferGoroutines reports the goroutines of finished transfers
// waiting a while for the next one (at most 64; each holds its stack).
func (s *Server) IdleTransferGoroutines() int { return s.runner.waiting() }

// ForeignData reports how many connections to passive ports were closed
// because they came from an address other than the control connection's.
func (s *Server) ForeignData() uint64 { return s.foreign.Load() }

// Close stops the worker pools once their queues are empty; it waits for
// the requests already queued, then closes the idle passive listeners. A
// start-up clean-up still running is stopped (its report says so) and
// waited for. Requests after Close are refused with ErrBusy. Transfers are
// not waited for: drain them first (Transfers).
func (s *Server) Close() {
	s.stopCleanup()
	s.fs.close()
	s.auth.close()
	s.hashes.close()
	s.lns.close()
	s.closeMuxes()
	s.runner.close()
}

// Accounts holds the users the server knows and their opened roots.
type Accounts struct {
	mu    sync.RWMutex
	users map[string]*account
	roots []*rootDir // every root opened by LoadAccounts, once per directory
	anon  *rootDir   // anonymous root; nil: anonymous login disabled
	cost  int        // bcrypt cost of the dummy hash for unknown users
	dummy dummyHash

	// Lifetime after a reload replaced it (reload.go): the identities
	// that use its roots, -1 once its roots are closed.
	refs    atomic.Int64
	retired atomic.Bool
}

// LoadAccounts reads a TOML accounts file ([[user]] tables with name,
// password (bcrypt), root, permissions and optional tls_login, tls_data,
// tls_reuse; accounts.go shows the format) and opens every root.
func LoadAccounts(path string) (*Accounts, error) { return loadAccounts(path) }

// NewAccounts returns an empty set of accounts (no one can log in).
func NewAccounts() *Accounts { return newAccounts() }

// SetAnonymous enables anonymous, read-only login (USER anonymous or ftp,
// any password) rooted at dir.
func (a *Accounts) SetAnonymous(dir string) error { return a.setAnonymous(dir) }

// Close releases the roots.
func (a *Accounts) Close() { a.close() }
