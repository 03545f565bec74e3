// Package early catches rftpd's stop, reload and reopen signals from the first moments of the process.
//
// Until a Go program asks for a signal, the runtime's default action for
// SIGINT, SIGTERM, SIGHUP and SIGUSR1 ends it at once. A package's init runs as
// soon as its imports are ready, and this one imports only os/signal, so
// it runs among the first packages of the process, long before rftpd's
// own (the TLS, storage and event-loop libraries and their dependencies
// initialise in between): a supervisor's SIGTERM that comes while rftpd
// starts is then held here for run to act on, instead of killing it.
package early

import (
	"os"
	"os/signal"
	"syscall"
)

var (
	// Stop receives SIGINT and SIGTERM.
	Stop = make(chan os.Signal, 1)
	// Reload receives SIGHUP.
	Reload = make(chan os.Signal, 1)
	// Reopen receives SIGUSR1 (reopen the log files, for logrotate).
	Reopen = make(chan os.Signal, 1)
)

func init() {
	signal.Notify(Stop, syscall.SIGINT, syscall.SIGTERM)
	signal.Notify(Reload, syscall.SIGHUP)
	signal.Notify(Reopen, syscall.SIGUSR1)
}

// Release gives the signals back their default actions, for a process
// that is not the server (rftpd passwd) or a test.
func Release() {
	signal.Stop(Stop)
	signal.Stop(Reload)
	signal.Stop(Reopen)
}
