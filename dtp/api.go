// The DTP's surface towards the reactor.
package dtp

import (
	"net/netip"

	"github.com/rftpd/rftpd/protocol"
)

// Config holds the DTP's settings; DefaultConfig gives every default.
type Config struct {
	PassiveLow, PassiveHigh uint16     // passive port range; 0,0: an ephemeral port
	PublicHost              netip.Addr // address announced by PASV/EPSV; invalid: the control connection's local address
	FSWorkers               int        // storage and listener workers
	FSQueue                 int        // storage requests waiting for a worker; beyond it ErrBusy
	AuthWorkers             int        // password-check workers
	AuthQueue               int        // password checks waiting; beyond it ErrBusy
	MaxTransfers            int        // data transfers at once (each its own goroutine); beyond it ErrBusy
	StatListMax             int        // bytes of a STAT <path> listing before it is cut short
	// OpHook, when set, is called on the worker before every storage
	// operation with the operation's name ("stat", "open", "list", "mkdir",
	// ...); tests use it to delay or fail storage. It returns an error to fail the operation.
	OpHook func(op string) error
}

// DefaultConfig returns the defaults for every setting.
func DefaultConfig() Config {
	return Config{
		FSWorkers:    16,
		FSQueue:      1024,
		AuthWorkers:  2,
		AuthQueue:    256,
		MaxTransfers: 1024,
		StatListMax:  64 << 10,
	}
}

// Server runs the DTP's worker pools for every session.
type Server struct {
	cfg Config
	acc *Accounts
}

// Session is the DTP side of one control connection: its identity and root
// after login, its pending passive listener or active address, and the
// transfer in flight. Its methods are safe from any goroutine.
type Session struct {
	srv  *Server
	info protocol.ConnInfo
}

// New starts the worker pools.
func New(cfg Config, acc *Accounts) (*Server, error) {
	return &Server{cfg: cfg, acc: acc}, nil
}

// NewSession makes the DTP state for a new control connection.
func (s *Server) NewSession(info protocol.ConnInfo) *Session {
	return &Session{srv: s, info: info}
}

// Do runs req for sess without blocking the caller: on a worker, or inline
// for ReqAbort, ReqActive and ReqLogout, which only close sockets and set
// state. post is called with each event that answers req (see protocol's
// request docs), from any goroutine, in order; when a pool is full it is
// called with the answering event carrying protocol.ErrBusy.
func (s *Server) Do(sess *Session, req protocol.Request, post func(protocol.Event)) {}

// CloseSession aborts sess's transfer and closes its listener; it does not
// block. Events still posted afterwards must be ignored by the caller.
func (s *Server) CloseSession(sess *Session) {}

// Transfers reports the data transfers in flight (including set-up).
func (s *Server) Transfers() int { return 0 }

// Close stops the worker pools once their queues are empty.
func (s *Server) Close() {}

// Accounts holds the users the server knows and their opened roots.
type Accounts struct{}

// LoadAccounts reads a TOML accounts file ([[user]] tables with name,
// password (bcrypt), root, permissions) and opens every root.
func LoadAccounts(path string) (*Accounts, error) { return &Accounts{}, nil }

// NewAccounts returns an empty set of accounts (no one can log in).
func NewAccounts() *Accounts { return &Accounts{} }

// SetAnonymous enables anonymous, read-only login (USER anonymous or ftp,
// any password) rooted at dir.
func (a *Accounts) SetAnonymous(dir string) error { return nil }

// Close releases the roots.
func (a *Accounts) Close() {}
