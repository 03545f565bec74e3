// Requests a Session emits for blocking work, and the events that answer them.
package protocol

import (
	"errors"
	"io/fs"
	"net/netip"
	"time"
)

// Request is work the session cannot do itself: it blocks (storage, password
// checks, sockets) and runs on a worker in package dtp. Each request is
// answered by the Event named in its comment, delivered back through
// Session.Event on the event loop, in the order the worker produced them.
type Request interface{ isRequest() }

// ReqLogin asks for a credentials check. Answered by EvLogin.
type ReqLogin struct {
	User   string
	Pass   string
	Secure bool // the control connection is protected by TLS (an account may require it)
}

// FileOp names a storage operation carried by ReqFile.
type FileOp uint8

const (
	OpStat        FileOp = iota + 1 // Stat Path (follows symlinks inside the root); answers CWD, SIZE, MDTM, MLST
	OpMkdir                         // Mkdir Path
	OpRmdir                         // Remove the empty directory Path
	OpDelete                        // Remove the file Path (not a directory)
	OpRename                        // Rename Path to Path2
	OpChmod                         // Chmod Path to Mode (permission bits only)
	OpSetTime                       // Set the modification time of Path to Time (MFMT)
	OpRenameCheck                   // Stat Path before RNFR is accepted
)

// ReqFile is a storage operation on the control channel. Paths are absolute,
// clean FTP paths ("/", "/pub/a.txt"), already clamped at the user's root.
// Answered by EvFile.
type ReqFile struct {
	Op    FileOp
	Path  string
	Path2 string
	Mode  fs.FileMode
	Time  time.Time
	// ASCII (OpStat for SIZE in TYPE A): Info.Size is the file's TYPE A
	// transfer size (RFC 3659 §4), or ErrASCIIScan for a file too large
	// to read for it.
	ASCII bool
}

// ReqStatList lists Path in LIST form for STAT with an argument; the listing
// comes back in EvStatList and is capped by the worker. Answered by EvStatList.
type ReqStatList struct {
	Path string
	Glob bool // the last element of Path is a pattern, as in ReqTransfer
}

// ReqPassive opens a passive data listener for the session, replacing any
// earlier one. Answered by EvPassive.
type ReqPassive struct {
	Extended bool // EPSV (true) or PASV (false)
}

// ReqActive records the client's address for active mode (PORT/EPRT). It is
// already validated by the session; nothing is dialled until a transfer
// starts. It is not answered; it tells the DTP to drop any passive listener.
type ReqActive struct {
	Addr netip.AddrPort
}

// XferKind names a data transfer.
type XferKind uint8

const (
	XferRetr XferKind = iota + 1 // file to client
	XferStor                     // client to file, truncating (or writing at Offset)
	XferAppe                     // client to end of file
	XferStou                     // client to a new file with a unique name in Path (a directory)
	XferList                     // LIST in ls -l form
	XferNlst                     // NLST: names only
	XferMlsd                     // MLSD: RFC 3659 facts
)

// ListFlags are the ls-style options a client passed to LIST/NLST.
type ListFlags uint8

const (
	ListAll ListFlags = 1 << iota // -a: include dot files
)

// ReqTransfer starts a data transfer over the pending data endpoint (the
// passive listener from the last ReqPassive, or the address from the last
// ReqActive). Answered by EvTransferStart (once the data connection is open
// and the file is ready; the session then sends 150) and then EvTransferDone,
// or by EvTransferDone alone when it failed before the data connection was
// used.
type ReqTransfer struct {
	Kind   XferKind
	Path   string    // absolute FTP path of the file or directory
	Offset int64     // REST offset for RETR, STOR and APPE (ErrBadOffset when it does not fit the file)
	ASCII  bool      // TYPE A: convert line endings
	Flags  ListFlags // LIST/NLST options
	Hide   Facts     // MLSD: the facts not to return (OPTS MLST); zero: all
	// Deflate: MODE Z is in force, the data connection carries a zlib
	// stream (RFC 1950) compressed at this level (1-9); 0: MODE S. Offset
	// and ASCII apply to the file's bytes, before compression.
	Deflate int
	// Glob: the last element of Path is a pattern (LIST and NLST only;
	// glob.go has the rules). Path is listed as it is when it exists
	// (a file or folder may have *, ? or [ in its name); else the entries
	// of its folder whose names match the pattern (Glob.Match) are listed,
	// a matching folder as one entry, not its contents. No match is an
	// empty listing.
	Glob bool
	// NamePrefix goes before every name an NLST of a pattern sends: the
	// folder part of the argument as the client wrote it ("pub/" for
	// "NLST pub/*.txt"), so that the names can be handed back to RETR as
	// they are, as mget does (vsftpd sends the same).
	NamePrefix string
	// Protect: PROT P is in force, so the data connection is TLS (server
	// side), resuming the control connection's TLS session when the account
	// requires reuse (ErrTLSReuse otherwise). A failed data handshake is
	// ErrTLSHandshake. Both come in EvTransferDone after EvTransferStart:
	// clients begin the data handshake only once the 150 reply has come.
	Protect bool
}

// HashAlgo names a checksum algorithm of ReqHash.
type HashAlgo uint8

const (
	HashSHA256 HashAlgo = iota + 1 // SHA-256 (FIPS 180-4)
	HashSHA512                     // SHA-512
	HashSHA1                       // SHA-1
	HashMD5                        // MD5 (RFC 1321)
	HashCRC32                      // CRC-32, IEEE polynomial (as zlib and cksum -a crc32b), 4 bytes big-endian
	numHashAlgos
)

// ReqHash computes the checksum Algo of the bytes [Start, End) of the
// regular file Path (HASH and the X forms XCRC, XMD5, XSHA1, XSHA256,
// XSHA512). End -1: to the end of the file. A Start beyond the end of the
// file is ErrBadOffset; so is an End beyond it, unless Clamp is set, when
// the range stops at the end (RANG's rule for RETR, draft-bryan-ftp-range
// §4.3). A directory is ErrIsDir, any other file that is not regular
// ErrPermission. The file is read on the DTP's hashing workers at a capped
// rate; ReqAbort cancels the hash (EvHash then carries ErrAborted).
// Answered by EvHash.
type ReqHash struct {
	Path       string
	Algo       HashAlgo
	Start, End int64
	Clamp      bool
}

// ReqAbort aborts the transfer in flight (and any pending data connection
// set-up), or the hash in flight. It is not answered itself: the
// transfer's EvTransferDone, or the hash's EvHash, follows with Err
// wrapping ErrAborted.
type ReqAbort struct{}

// ReqStartTLS asks the reactor (not the DTP) to start TLS on the control
// connection once the reply before it is written: after "234" for AUTH, or at
// once on an implicit-TLS listener. Answered by EvTLS. Until then the session
// reads no command (Ready is false).
type ReqStartTLS struct{}

// ReqLogout drops the session's identity (REIN): passive listener closed,
// nothing in flight. It is not answered.
type ReqLogout struct{}

func (ReqLogin) isRequest()    {}
func (ReqFile) isRequest()     {}
func (ReqStatList) isRequest() {}
func (ReqPassive) isRequest()  {}
func (ReqActive) isRequest()   {}
func (ReqTransfer) isRequest() {}
func (ReqHash) isRequest()     {}
func (ReqAbort) isRequest()    {}
func (ReqLogout) isRequest()   {}
func (ReqStartTLS) isRequest() {}

// Event is a completion delivered to Session.Event.
type Event interface{ isEvent() }

// EvLogin answers ReqLogin.
type EvLogin struct {
	OK        bool
	Anonymous bool
	Perms     Perm
	// TLSData: the account must protect data connections (PROT P) before
	// any transfer; transfers under PROT C are refused with 521.
	TLSData bool
	Err     error // non-nil: the check could not be made (ErrBusy, ...), or ErrTLSRequired
}

// EvTLS answers ReqStartTLS: Err nil once the handshake completed (the
// control connection is protected from then on). On failure the reactor
// closes the connection; the session only needs to stop.
type EvTLS struct {
	Err error
}

// EvFile answers ReqFile. Info is set for OpStat and OpRenameCheck, and for
// OpMkdir (the new directory) and OpSetTime (the file after the change).
type EvFile struct {
	Op   FileOp
	Info FileInfo
	Err  error
}

// EvStatList answers ReqStatList: LIST-form lines, each ending in CRLF.
type EvStatList struct {
	Lines []byte
	Err   error
}

// EvPassive answers ReqPassive with the address to announce.
type EvPassive struct {
	Addr netip.AddrPort
	Err  error
}

// EvTransferStart says the data connection is open and data is about to flow.
type EvTransferStart struct {
	Size     int64        // bytes to send for RETR (after Offset), -1 when unknown
	Name     string       // STOU: the unique file name chosen
	Progress func() int64 // bytes moved so far; safe to call on the loop
}

// EvTransferDone ends a transfer. Err is nil on success, wraps ErrAborted when
// ReqAbort (or a timeout) stopped it, wraps ErrDataConn when the data
// connection failed, and is a storage error otherwise.
type EvTransferDone struct {
	Bytes int64
	Err   error
}

// EvHash answers ReqHash: Sum is the checksum of the bytes [Start, End)
// of the file, the range actually read (End never beyond the file's end).
type EvHash struct {
	Sum        []byte
	Start, End int64
	Err        error
}

func (EvLogin) isEvent()         {}
func (EvHash) isEvent()          {}
func (EvFile) isEvent()          {}
func (EvStatList) isEvent()      {}
func (EvPassive) isEvent()       {}
func (EvTransferStart) isEvent() {}
func (EvTransferDone) isEvent()  {}
func (EvTLS) isEvent()           {}

// FileInfo is what the DTP reports about a file.
type FileInfo struct {
	Name    string
	Size    int64
	ModTime time.Time
	Mode    fs.FileMode
	Nlink   uint64 // hard links (st_nlink); 0: unknown, listed as 1
}

// Errors the DTP returns (possibly wrapped) so the session can choose a reply
// code. Plain io/fs errors (fs.ErrNotExist, fs.ErrExist, fs.ErrPermission)
// are understood too.
var (
	ErrAborted    = errors.New("transfer aborted")
	ErrDataConn   = errors.New("data connection failed")
	ErrBusy       = errors.New("server busy")
	ErrEscapes    = errors.New("path escapes the root")
	ErrNotDir     = errors.New("not a directory")
	ErrIsDir      = errors.New("is a directory")
	ErrNotEmpty   = errors.New("directory not empty")
	ErrNoSpace    = errors.New("no space left on device")
	ErrQuota      = errors.New("storage quota exceeded")
	ErrPermission = errors.New("permission denied")
	ErrNoEndpoint = errors.New("no data endpoint: use PASV, EPSV, PORT or EPRT first")
	ErrBadName    = errors.New("file name not allowed")                     // too long, a symlink loop, or otherwise unusable
	ErrBadOffset  = errors.New("restart offset beyond the end of the file") // REST past the end (RETR, STOR) or not at the end (APPE)
	// ErrASCIIScan: a TYPE A size or restart offset is asked of a file
	// larger than the DTP reads to find it (dtp.ASCIIScanMax).
	ErrASCIIScan = errors.New("file too large for a TYPE A size or restart offset")
	// FTPS
	ErrTLSRequired  = errors.New("this account requires TLS on the control connection") // EvLogin: refused before the password is checked
	ErrTLSReuse     = errors.New("the data connection did not resume the control connection's TLS session")
	ErrTLSHandshake = errors.New("TLS handshake on the data connection failed")
)
