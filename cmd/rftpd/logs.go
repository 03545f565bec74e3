// Logs: the access log (logins and changes, in the main log), the xferlog transfer log, and log files that SIGUSR1 reopens.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rftpd/rftpd/cmd/rftpd/internal/asynclog"
	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// logQueue is how many lines each log holds for its writer goroutine
// before it drops them.
const logQueue = 4096

// newHandler makes the main log's handler: "text" (logfmt, key=value) or
// "json" (one object per line), at the level level holds.
func newHandler(format string, w io.Writer, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// logFile is a log file opened for appending that Reopen opens again by
// name: logrotate renames it, then sends SIGUSR1, and the lines that follow
// go to a new file of that name.
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// openLogFile opens (creating it, mode 0640) the file at path for appending.
func openLogFile(path string) (*logFile, error) {
	l := &logFile{path: path}
	f, err := l.open()
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, nil
}

func (l *logFile) open() (*os.File, error) {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// Write appends p. Only the log's writer goroutine calls it.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen opens the file by its name again and closes the old one. On
// failure the old one stays in use.
func (l *logFile) Reopen() error {
	f, err := l.open()
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// logs are the main log (with the access log's lines) and the transfer log,
// the files they write to (to reopen), and the levels the main log lets
// through (to reload).
type logs struct {
	main  *slog.Logger
	mainw *asynclog.Writer // main's queue
	level *slog.LevelVar
	files []*logFile // reopened on SIGUSR1
	stop  []func()   // the async writers to close, last first
	xfer  *asynclog.Writer
}

// openLogs sets up the main log (stderr or s.LogFile, text or JSON) and the
// xferlog (s.Xferlog, if set), each behind a bounded queue.
func openLogs(s settings, stderr io.Writer, level *slog.LevelVar) (*logs, error) {
	l := &logs{level: level}
	var dst io.Writer = stderr
	if s.LogFile != "" {
		f, err := openLogFile(s.LogFile)
		if err != nil {
			return nil, err
		}
		l.files = append(l.files, f)
		dst = f
	}
	var main *slog.Logger
	w := asynclog.NewReporting(dst, logQueue, func(n uint64) {
		main.Warn("log lines dropped: the log destination was too slow", "dropped", n)
	})
	main = slog.New(newHandler(s.LogFormat, w, level))
	l.main, l.mainw = main, w
	l.stop = append(l.stop, func() { w.Close(2 * time.Second) })
	if s.Xferlog != "" {
		f, err := openLogFile(s.Xferlog)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("xferlog: %w", err)
		}
		l.files = append(l.files, f)
		l.xfer = asynclog.NewReporting(f, logQueue, func(n uint64) {
			main.Warn("xferlog lines dropped: the file was too slow", "dropped", n)
		})
		xw := l.xfer
		l.stop = append(l.stop, func() { xw.Close(2 * time.Second) })
	}
	return l, nil
}

// collectors count the lines each log dropped because its destination was
// too slow, for the metrics.
func (l *logs) collectors() []prometheus.Collector {
	out := []prometheus.Collector{l.droppedCounter("main", l.mainw)}
	if l.xfer != nil {
		out = append(out, l.droppedCounter("xferlog", l.xfer))
	}
	return out
}

func (l *logs) droppedCounter(log string, w *asynclog.Writer) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "rftpd_log_lines_dropped_total",
		Help:        "Log lines dropped because the log's destination was too slow (the log says how many, too).",
		ConstLabels: prometheus.Labels{"log": log},
	}, func() float64 { return float64(w.Dropped()) })
}

// Reopen reopens every log file (SIGUSR1).
func (l *logs) Reopen() error {
	var errs []error
	for _, f := range l.files {
		if err := f.Reopen(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close writes what is queued and closes the files.
func (l *logs) Close() {
	for i := len(l.stop) - 1; i >= 0; i-- {
		l.stop[i]()
	}
	for _, f := range l.files {
		_ = f.Close()
	}
}

// audit turns the DTP's records into access-log lines and xferlog lines.
type audit struct {
	log  *slog.Logger
	xfer io.Writer // nil: no xferlog
	pool sync.Pool // *[]byte for xferlog lines
}

// Login logs a login: accepted at info level, refused at warn level with
// the reason (what fail2ban's filter matches, on client=).
func (a *audit) Login(r dtp.LoginRecord) {
	ip := r.Client.Addr().Unmap()
	if r.OK {
		a.log.Info("login", "client", ip, "user", r.User, "tls", r.TLS, "anonymous", r.Anonymous)
		return
	}
	a.log.Warn("login refused", "client", ip, "user", r.User, "tls", r.TLS, "reason", r.Reason)
}

// Change logs a storage change, done or refused.
func (a *audit) Change(r dtp.ChangeRecord) {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.Any("client", r.Client.Addr().Unmap()), slog.String("user", r.User),
		slog.String("op", r.Verb()), slog.String("path", r.Path))
	switch r.Op {
	case protocol.OpRename:
		attrs = append(attrs, slog.String("to", r.Path2))
	case protocol.OpChmod:
		attrs = append(attrs, slog.String("mode", fmt.Sprintf("%04o", uint32(r.Mode.Perm()))))
	case protocol.OpSetTime:
		attrs = append(attrs, slog.String("mtime", r.Time.UTC().Format(time.RFC3339)))
	}
	level, msg := slog.LevelInfo, "change"
	if r.Err != nil {
		level, msg = slog.LevelWarn, "change refused"
		attrs = append(attrs, slog.String("err", plainErr(r.Err)))
	}
	a.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// Transfer logs a transfer in the main log (file transfers at info level,
// listings at debug) and, for a file whose data began to move, writes its
// xferlog line.
func (a *audit) Transfer(r dtp.TransferRecord) {
	level := slog.LevelInfo
	if r.Listing() {
		level = slog.LevelDebug
	}
	if a.log.Enabled(context.Background(), level) {
		attrs := []slog.Attr{
			slog.Any("client", r.Client.Addr().Unmap()), slog.String("user", r.User),
			slog.String("op", xferVerb(r.Kind)), slog.String("path", r.Path),
			slog.Int64("bytes", r.Bytes), slog.Duration("took", r.Duration.Round(time.Microsecond)),
			slog.Bool("tls", r.TLS), slog.String("result", result(r)),
		}
		if r.Offset > 0 {
			attrs = append(attrs, slog.Int64("offset", r.Offset))
		}
		if r.Err != nil {
			attrs = append(attrs, slog.String("err", plainErr(r.Err)))
		}
		a.log.LogAttrs(context.Background(), level, "transfer", attrs...)
	}
	if a.xfer == nil || r.Listing() || !r.Started {
		return
	}
	bp, _ := a.pool.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 256)
		bp = &b
	}
	*bp = appendXferlog((*bp)[:0], r, time.Now())
	_, _ = a.xfer.Write(*bp) // the queue keeps a copy
	a.pool.Put(bp)
}

// result names a transfer's outcome.
func result(r dtp.TransferRecord) string {
	switch {
	case r.Err == nil:
		return "complete"
	case errors.Is(r.Err, protocol.ErrAborted):
		return "aborted"
	}
	return "failed"
}

// xferVerb names the command of a transfer kind.
func xferVerb(k protocol.XferKind) string {
	switch k {
	case protocol.XferRetr:
		return "RETR"
	case protocol.XferStor:
		return "STOR"
	case protocol.XferAppe:
		return "APPE"
	case protocol.XferStou:
		return "STOU"
	case protocol.XferList:
		return "LIST"
	case protocol.XferNlst:
		return "NLST"
	case protocol.XferMlsd:
		return "MLSD"
	}
	return "?"
}

// appendXferlog appends r's line in the xferlog format of wu-ftpd, which
// vsftpd and ProFTPD write and log analysers read, fields separated by one
// space:
//
//	current-time  transfer-time remote-host file-size filename transfer-type
//	special-action-flag direction access-mode username service-name
//	authentication-method authenticated-user-id completion-status
//
// current-time is the local time in ctime's form ("Tue Dec  1 19:55:27
// 2026"); transfer-time whole seconds, at least 1; file-size the bytes moved;
// filename the FTP path with each space or control character made "_" (as
// ProFTPD does, so that the fields stay split on spaces); transfer-type "a"
// (TYPE A) or "b"; special-action-flag "_"; direction "o" (download) or
// "i"; access-mode "a" (anonymous) or "r"; username the login name (never
// an anonymous user's password, which wu-ftpd logged); service-name "ftp";
// authentication-method "0" and authenticated-user-id "*" (no RFC 931
// lookup); completion-status "c" (complete) or "i" (incomplete: failed or
// aborted).
func appendXferlog(b []byte, r dtp.TransferRecord, now time.Time) []byte {
	b = now.AppendFormat(b, "Mon Jan _2 15:04:05 2006")
	secs := int64((r.Duration + time.Second/2) / time.Second)
	b = append(b, ' ')
	b = strconv.AppendInt(b, max(secs, 1), 10)
	b = append(b, ' ')
	b = r.Client.Addr().Unmap().AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, ' ')
	b = appendField(b, r.Path)
	typ, dir, mode, status := " b _ ", "o ", "r ", " ftp 0 * c\n"
	if r.ASCII {
		typ = " a _ "
	}
	if r.Upload() {
		dir = "i "
	}
	if r.Anonymous {
		mode = "a "
	}
	if r.Err != nil {
		status = " ftp 0 * i\n"
	}
	b = append(b, typ...)
	b = append(b, dir...)
	b = append(b, mode...)
	b = appendField(b, r.User)
	return append(b, status...)
}

// appendField appends s with each space and control character (bytes up
// to 0x20, and 0x7f) made "_"; an empty s is "_".
func appendField(b []byte, s string) []byte {
	if s == "" {
		return append(b, '_')
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// activeFallbackLogger logs an active data connection that could not come
// from its port (dtp.Config.ActivePort): the first at warn level, with what
// to do, the others at debug level.
func activeFallbackLogger(logger *slog.Logger) func(uint16, error) {
	var told atomic.Bool
	return func(port uint16, err error) {
		level := slog.LevelDebug
		if !told.Swap(true) {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, "active data connections come from any port: their port cannot be bound (below 1024 it needs root or CAP_NET_BIND_SERVICE; active_port = -1 stops trying)",
			"port", port, "err", err)
	}
}
