// The Session's public surface: what the reactor calls. (Implementation: session.go and cmd_*.go.)
package protocol

import (
	"net/netip"
	"time"
)

// Config holds the server-PI's settings; DefaultConfig gives every default.
type Config struct {
	Banner           string        // text of the 220 greeting
	AnonymousEnabled bool          // USER anonymous/ftp accepted
	LoginTimeout     time.Duration // from connect until logged in
	IdleTimeout      time.Duration // no command and no transfer in flight
	DataTimeout      time.Duration // data connection set-up (passive accept / active connect)
	MaxQueued        int           // commands queued behind one that waits on a worker
	StallTimeout     time.Duration // a transfer that moves no byte for this long is aborted (0: never)
	MinRate          int64         // bytes per second a transfer must move, on average over each RateWindow, or be aborted (0: no minimum)
	RateWindow       time.Duration // the span MinRate is averaged over
	LoginFailDelay   time.Duration // wait before answering a refused password; doubles with each failure (0: none)
	MaxLoginFailures int           // refused passwords before the session is closed (0: no limit)
	// ModeZ offers MODE Z (deflate compression of data connections, in the
	// zlib format) and lists it in FEAT; ModeZLevel is the level a session
	// starts with (1-9; 0: 1), ModeZMaxLevel the highest OPTS MODE Z LEVEL
	// may set (0: 9).
	ModeZ         bool
	ModeZLevel    int
	ModeZMaxLevel int
	Meter         Meter // told of every command's final reply and every transfer's end (meter.go); nil: none

	// FTPS (RFC 4217). TLS: a certificate is configured, so AUTH TLS/SSL,
	// PBSZ and PROT are offered (and listed by FEAT); without it they are
	// refused and the policies below do not apply.
	TLS bool
	// Implicit: the listener is implicit FTPS. The session starts with
	// ReqStartTLS and sends its greeting only after EvTLS.
	Implicit bool
	// TLSLoginAccounts refuses USER for an account name (530) until the
	// control connection is protected; TLSLoginAnonymous does the same for
	// anonymous names.
	TLSLoginAccounts  bool
	TLSLoginAnonymous bool
	// Whether a login must protect its data connections comes with its
	// EvLogin (TLSData), from the DTP's per-account settings.
}

// DefaultConfig returns the defaults for every setting.
func DefaultConfig() Config {
	return Config{
		Banner:           "rftpd ready.",
		LoginTimeout:     60 * time.Second,
		IdleTimeout:      300 * time.Second,
		DataTimeout:      30 * time.Second,
		MaxQueued:        16,
		StallTimeout:     120 * time.Second,
		MinRate:          1024,
		RateWindow:       60 * time.Second,
		LoginFailDelay:   time.Second,
		MaxLoginFailures: 3,
	}
}

// ConnInfo describes the control connection.
type ConnInfo struct {
	Local  netip.AddrPort
	Remote netip.AddrPort
}

// Output is what a Session produced since the last TakeOutput.
type Output struct {
	Reply    []byte    // wire bytes to send, in order; valid until the next call into the Session
	Requests []Request // work to run, in order
	Close    bool      // close the control connection once Reply is written
}
