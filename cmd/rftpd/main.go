// Command rftpd is an event-driven FTP server: flags, wiring and signals.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/cmd/rftpd/internal/early"
	"github.com/rftpd/rftpd/cmd/rftpd/internal/metrics"
	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/reactor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main with its inputs and outputs passed in; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "passwd" {
		early.Release() // Ctrl-C ends it
		return passwd(args[1:], stdin, stdout, stderr)
	}
	// Signals are caught from the process's first moments (package early),
	// before anything slow (reading the config, the certificate and the
	// accounts, binding the listeners): one that comes during set-up ends
	// rftpd with status 0 once the step in progress is done, instead of
	// killing it half-started.
	sigs := early.Stop
	// SIGHUP reloads (reload.go). One that comes during set-up waits here
	// and reloads once rftpd runs; it never ends the process.
	hups := early.Reload
	// Log lines go through a bounded queue to a goroutine of their own:
	// the event loop logs, and a stalled stderr (a full pipe) must not stop
	// it. A full queue drops lines and says how many once it can. Until
	// the config is read, lines go to stderr as text.
	level := new(slog.LevelVar)
	lg, _ := openLogs(defaults(), stderr, level)
	defer func() { lg.Close() }()
	logger := lg.main
	stopped := func() bool {
		select {
		case sig := <-sigs:
			logger.Info("shutting down", "signal", sig.String(), "before", "listening")
			return true
		default:
			return false
		}
	}

	s, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersion) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "rftpd: %v (see rftpd -h)\n", err)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
		return 1
	}
	rcfg, pcfg, dcfg, err := s.configs()
	if err != nil {
		fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
		return 1
	}
	lv, _ := parseLogLevel(s.LogLevel)
	level.Set(lv)
	if s.LogFile != "" || s.Xferlog != "" || s.LogFormat != "text" {
		nl, err := openLogs(s, stderr, level)
		if err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
		lg.Close()
		lg = nl
		logger = lg.main
	}
	rcfg.Logger = logger
	au := &audit{log: logger}
	if lg.xfer != nil {
		au.xfer = lg.xfer
	}
	dcfg.Audit = au
	dcfg.OnForeignData = func(control, data netip.AddrPort) {
		logger.Warn("refused a data connection from a foreign address", "client", control, "from", data)
	}
	dcfg.OnCleanup = cleanupLogger(logger)
	dcfg.OnActiveFallback = activeFallbackLogger(logger)
	if rcfg.Bound, err = privilegeDrop(s.RunAs, logger); err != nil {
		fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
		return 1
	}
	if stopped() {
		return 0
	}

	// Every descriptor user draws from one budget made from this limit
	// (dtp/fair): sessions get 421, passive listeners 425 and transfers
	// 450 before the process runs out.
	dcfg.OpenFiles = raiseFileLimit(logger)

	var certs *dtp.TLS
	if s.TLS.Cert != "" {
		if certs, err = dtp.NewTLS(s.TLS.Cert, s.TLS.Key); err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
		rcfg.TLS, dcfg.TLS = certs, certs
	}
	if stopped() {
		return 0
	}

	acc := dtp.NewAccounts()
	if s.Users != "" {
		if acc, err = dtp.LoadAccounts(s.Users); err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
	}
	rl := &reloader{args: args, cur: s, certs: certs, level: level, acc: acc}
	defer rl.close()
	if s.Anonymous != "" {
		if err := acc.SetAnonymous(s.Anonymous); err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
	}
	if s.Users == "" && s.Anonymous == "" {
		logger.Warn("no -anonymous DIR and no -users FILE: nobody can log in")
	}
	if stopped() {
		return 0
	}
	d, err := dtp.New(dcfg, acc)
	if err != nil {
		fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
		return 1
	}
	defer d.Close()

	srv := reactor.New(rcfg, pcfg, d)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()

	// SIGHUP re-reads the config file, the accounts, the anonymous root
	// and the TLS pair (reload.go). Open sessions keep the settings,
	// identity and certificate they started with.
	rl.srv, rl.d, rl.log = srv, d, logger
	go func() {
		for range hups {
			rl.reload()
		}
	}()

	// SIGUSR1 reopens the log files (logrotate's postrotate).
	go func() {
		for range early.Reopen {
			if err := lg.Reopen(); err != nil {
				logger.Error("reopening the log files failed; still writing to the old ones", "err", err)
			} else {
				logger.Info("log files reopened")
			}
		}
	}()

	// shutdown drains and stops the server and waits for Serve to return.
	shutdown := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), s.Timeouts.Shutdown)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Error("shutdown", "err", err)
		}
		if err := <-done; err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
		return 0
	}

	select {
	case err := <-done:
		fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
		return 1
	case sig := <-sigs:
		// Serve may be binding its listeners: Shutdown waits until it
		// listens (or has failed) and stops it, so none outlives run.
		logger.Info("shutting down", "signal", sig.String(), "before", "listening")
		return shutdown()
	case <-srv.Ready():
	}
	for i, l := range srv.Listeners() {
		scheme, note := "ftp", ""
		if l.ImplicitTLS {
			scheme, note = "ftps", " (implicit TLS)"
		}
		if m := rcfg.Listeners[i].Proxy; m != reactor.ProxyOff {
			note += " (PROXY protocol " + m.String() + ")"
		}
		fmt.Fprintf(stdout, "rftpd: listening on %s://%s%s\n", scheme, l.Addr, note)
	}
	if certs != nil {
		fmt.Fprintf(stdout, "rftpd: FTPS (AUTH TLS) with %s\n", s.TLS.Cert)
	}
	if s.Anonymous != "" {
		fmt.Fprintf(stdout, "rftpd: anonymous read-only access to %s\n", s.Anonymous)
	}
	if s.AdminListen != "" {
		// Metrics and health checks over HTTP, on goroutines of their own.
		admin, err := metrics.Listen(s.AdminListen, srv, d, strings.Fields(versionString())[1], logger, lg.collectors()...)
		if err != nil {
			fmt.Fprintf(stderr, "rftpd: admin listener: %s\n", plainErr(err))
			shutdown()
			return 1
		}
		go func() {
			if err := admin.Serve(); err != nil {
				logger.Error("admin listener stopped", "err", err)
			}
		}()
		defer func() { // after the drain, which /readyz reports
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = admin.Close(ctx)
		}()
		fmt.Fprintf(stdout, "rftpd: admin on http://%s (/metrics, /healthz, /readyz)\n", admin.Addr())
	}

	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(stderr, "rftpd: %s\n", plainErr(err))
			return 1
		}
		return 0
	case sig := <-sigs:
		logger.Info("shutting down", "signal", sig.String(), "sessions", srv.Sessions(), "transfers", d.Transfers(), "grace", s.Timeouts.Shutdown)
	}
	return shutdown()
}

// passwd reads one password line from stdin and prints its bcrypt hash.
func passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "rftpd: passwd takes no arguments; it reads the password from standard input\n")
		return 2
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "rftpd: passwd: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		fmt.Fprintf(stderr, "rftpd: passwd: empty password\n")
		return 1
	}
	hash, err := dtp.HashPassword([]byte(pw))
	if err != nil {
		fmt.Fprintf(stderr, "rftpd: passwd: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}

// raiseFileLimit lifts the soft open-file limit to the hard one: each session
// holds a socket, and each transfer a socket and a file. It returns the
// limit in force (0 if unknown).
func raiseFileLimit(logger *slog.Logger) int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			logger.Warn("cannot raise the open-file limit", "err", err)
			_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		}
	}
	logger.Debug("open-file limit", "soft", lim.Cur, "hard", lim.Max)
	return int(min(lim.Cur, 1<<30))
}
