// Package dtp is rftpd's server-DTP and storage: everything that blocks.
//
// It runs the requests a protocol.Session emits — password checks, storage
// operations through os.Root, passive listeners, active dials and the data
// transfers themselves (sendfile for RETR, splice for STOR/APPE) — on bounded
// worker pools, and reports each result through the post callback the reactor
// gives it. Nothing here runs on the event loop except Do's enqueueing and the
// socket closes of ReqAbort.
//
// # Where requests run
//
//	ReqLogin        auth pool (bcrypt); anonymous logins inline in Do
//	ReqFile         storage pool
//	ReqStatList     storage pool
//	ReqPassive      storage pool (the listen system calls)
//	ReqTransfer     a goroutine of its own, at most Config.MaxTransfers at once
//	ReqActive, ReqAbort, ReqLogout   inline in Do: they only set state and close sockets
//
// A full pool or transfer limit refuses at once: Do posts the answering
// event with Err == protocol.ErrBusy before it returns. Do never blocks.
//
// # Threading of post
//
// post is called from Do's own goroutine (refusals and anonymous logins,
// before Do returns), from pool workers and from transfer goroutines. It must
// be safe from any goroutine and must not call back into the protocol
// session synchronously: hand the event to the event loop (gnet's Execute)
// and return. The events answering one request are posted by one goroutine
// in order — EvTransferStart, then EvTransferDone, which is always the last
// event of a transfer and comes after its data connection and file are
// closed. Events of different requests of one session (a STAT listing
// during a transfer) have no order between them. After CloseSession, events
// may still be posted; the caller drops them.
//
// A transfer stops counting in Transfers and frees its slot just before its
// EvTransferDone is posted, so the session may start the next one at once.
//
// # Storage
//
// An FTP path maps to a root-relative one with path.Clean("/"+p) (".." stops
// at the root) and every access goes through the session's *os.Root, which
// refuses symlinks that lead out of it (protocol.ErrEscapes). Changes need
// the account's permission again here (defence in depth) and are never
// allowed to anonymous sessions. Config.OpHook sees these operation names:
// "stat", "lstat" (the RNFR check), "mkdir", "rmdir", "delete", "rename",
// "chmod", "chtimes", "open" (RETR and uploads) and "list" (LIST, NLST,
// MLSD, STAT <path>).
//
// # Transfers
//
// A transfer takes the session's pending endpoint (it is used once): the
// passive listener, where only a connection from the control connection's
// address is accepted (others are closed and counted in ForeignData), or
// the active address, dialled from the control connection's local address.
// RETR and listings open their file or directory before the data
// connection, so a missing file is answered with EvTransferDone alone;
// uploads open their file only after it, so a failed data connection never
// truncates a file. STOU reports the base name of the file it made in
// EvTransferStart.Name. EvTransferStart.Size is -1 except for RETR in TYPE I.
//
// An abort (ReqAbort, ReqLogout, CloseSession) closes the listener or data
// connection and cancels a dial; the transfer then ends with an error
// wrapping protocol.ErrAborted. Other data connection failures wrap
// protocol.ErrDataConn; storage failures map to ErrNoSpace, ErrQuota,
// ErrPermission and so on.
//
// TYPE A converts LF to CRLF on the way out (an LF already preceded by CR is
// left alone) and CRLF to LF on the way in. Listings always end lines in
// CRLF. Names containing CR or LF are left out of listings: a line-based
// protocol cannot carry them.
package dtp
