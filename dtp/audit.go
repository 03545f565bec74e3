// Audit records: what an operator's access and transfer logs need to know of logins, changes and transfers.
package dtp

import (
	"io/fs"
	"net/netip"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// Audit receives a record of every login attempt, every change to storage
// made on the control channel, and every data transfer, once its outcome is
// known. It is called on the goroutine that did the work (a password
// worker, a storage worker, a transfer's goroutine, or Do's caller for an
// answer given inline) and must not block: it hands the record to a log
// that drops rather than waits. No record holds a password.
type Audit interface {
	Login(LoginRecord)
	Change(ChangeRecord)
	Transfer(TransferRecord)
}

// LoginRecord is one answered login attempt.
type LoginRecord struct {
	Client    netip.AddrPort
	User      string // as the client gave it
	Anonymous bool
	TLS       bool // the control connection was protected
	OK        bool
	Reason    string // why it was refused (OK false): see the Refused* constants
}

// Why a login was refused.
const (
	RefusedPassword    = "bad password"
	RefusedUnknownUser = "unknown user"
	RefusedTLSRequired = "TLS required"
	RefusedBusy        = "password checks busy"
	RefusedNoAnonymous = "anonymous access disabled"
)

// ChangeRecord is one storage change asked for on the control channel:
// MKD, RMD, DELE, RNTO, SITE CHMOD or MFMT.
type ChangeRecord struct {
	Client    netip.AddrPort
	User      string
	Anonymous bool
	Op        protocol.FileOp // OpMkdir, OpRmdir, OpDelete, OpRename, OpChmod or OpSetTime
	Path      string          // FTP path (the rename's source)
	Path2     string          // OpRename: the new name
	Mode      fs.FileMode     // OpChmod
	Time      time.Time       // OpSetTime
	Err       error           // nil: done
}

// Verb names the FTP command that asks for op.
func (r ChangeRecord) Verb() string {
	switch r.Op {
	case protocol.OpMkdir:
		return "MKD"
	case protocol.OpRmdir:
		return "RMD"
	case protocol.OpDelete:
		return "DELE"
	case protocol.OpRename:
		return "RNTO"
	case protocol.OpChmod:
		return "SITE CHMOD"
	case protocol.OpSetTime:
		return "MFMT"
	}
	return "?"
}

// isChange reports whether op changes storage (and so is audited).
func isChange(op protocol.FileOp) bool {
	switch op {
	case protocol.OpMkdir, protocol.OpRmdir, protocol.OpDelete, protocol.OpRename, protocol.OpChmod, protocol.OpSetTime:
		return true
	}
	return false
}

// TransferRecord is one data transfer that was started on a worker: it
// completed, failed or was aborted.
type TransferRecord struct {
	Client    netip.AddrPort
	User      string
	Anonymous bool
	Kind      protocol.XferKind
	Path      string // FTP path of the file (STOU: the name it chose) or listed directory
	ASCII     bool   // TYPE A
	TLS       bool   // the data connection was protected (PROT P)
	Offset    int64  // REST offset
	Start     time.Time
	Duration  time.Duration
	Bytes     int64 // moved over the data connection
	// Started: the data connection opened and data began to move (the
	// client got 150). A transfer refused before that (no such file,
	// no permission, no data connection) has it false.
	Started bool
	Err     error // nil: complete; wraps protocol.ErrAborted when aborted
}

// Upload reports whether the transfer stored a file.
func (r TransferRecord) Upload() bool {
	return r.Kind == protocol.XferStor || r.Kind == protocol.XferAppe || r.Kind == protocol.XferStou
}

// Listing reports whether the transfer was a directory listing.
func (r TransferRecord) Listing() bool {
	return r.Kind == protocol.XferList || r.Kind == protocol.XferNlst || r.Kind == protocol.XferMlsd
}

// audit hands rec to Config.Audit, if set.
func (s *Server) audit(rec LoginRecord) {
	if a := s.cfg.Audit; a != nil {
		a.Login(rec)
	}
}

// auditChange records a storage change asked for by id.
func (s *Server) auditChange(sess *Session, id *identity, r protocol.ReqFile, err error) {
	a := s.cfg.Audit
	if a == nil || !isChange(r.Op) {
		return
	}
	rec := ChangeRecord{Client: sess.info.Remote, Op: r.Op, Path: r.Path, Path2: r.Path2, Mode: r.Mode, Time: r.Time, Err: err}
	if id != nil {
		rec.User, rec.Anonymous = id.user, id.anon
	}
	a.Change(rec)
}
