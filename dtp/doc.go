// Package dtp is rftpd's server-DTP and storage: everything that blocks.
//
// It runs the requests a protocol.Session emits — password checks, storage
// operations through os.Root, passive listeners, active dials and the data
// transfers themselves (sendfile for RETR, splice for STOR/APPE, crypto/tls
// under PROT P) — on bounded worker pools, and reports each result through
// the post callback the reactor gives it. Nothing here runs on the event
// loop except Do's enqueueing and the socket closes of ReqAbort.
//
// # Where requests run
//
//	ReqLogin        auth pool (bcrypt); anonymous logins and ErrTLSRequired refusals inline in Do
//	ReqFile         storage pool
//	ReqStatList     storage pool
//	ReqPassive      storage pool (the listen system calls)
//	ReqTransfer     a goroutine of its own, at most Config.MaxTransfers at once
//	ReqHash         hashing pool (Config.HashWorkers), its reads paced by Config.HashRate and
//	                HashRatePerSession; ReqAbort, ReqLogout and CloseSession cancel it (hash.go)
//	ReqActive, ReqAbort, ReqLogout   inline in Do: they only set state and close sockets
//
// A full pool or transfer limit refuses at once: Do posts the answering
// event with Err == protocol.ErrBusy before it returns. Do never blocks.
// The pools' slots and the transfers are shared fairly between client
// addresses (package fair), and passive listeners and transfers take
// their descriptors from the budget (Config.OpenFiles, Descriptors): a
// client over its part, or a budget that runs short, is refused the same
// way. A refused transfer uses up the session's endpoint.
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
// "chmod", "chtimes", "open" (RETR and uploads), "list" (LIST, NLST,
// MLSD, STAT <path>), and on the transfer's goroutine "write" (before
// each batch of upload data goes to the file), "sync" (with
// DurableUploads: before the uploaded file's fdatasync, once all its data
// has arrived), "commit" (before an atomic upload's temporary file is
// renamed over its target) and "syncdir" (with DurableUploads: before the
// fsync of the folder, after that rename or after an in-place upload made
// a new file); and on a hashing worker "hash" (before a hash opens its
// file). An error returned for any of these fails the upload as a
// storage error would: a syscall.ENOSPC or EDQUOT becomes ErrNoSpace or
// ErrQuota, anything else a local error.
//
// # Uploads
//
// With Config.AtomicUploads (the default) a STOR without REST writes to
// ".rftpd-upload.<instance>.<random>" (8 and 12 hex digits), created
// O_EXCL in the target's directory and flock'ed while it exists, and
// renames it over the target once the client has closed the data
// connection and all the data is in the file. On an abort, a data
// connection failure, a storage error (disk full, quota) or the session's
// end the temporary file is removed: the old file, if any, was never
// touched. Concurrent STORs of one name each write their own temporary
// file; each rename puts a whole file in place and the last one wins. The
// new file takes the old one's permission bits; a symlink at the target's
// name is replaced, not written through. Names starting with
// protocol.ReservedPrefix are left out of every listing, and every request
// naming one is refused (protocol.ErrBadName). With
// Config.CleanStaleUploads New removes, in the background, the temporary
// files of uploads whose process died, and keeps those of live instances
// sharing the tree (cleanup.go).
//
// With Config.DurableUploads (the default) an upload's EvTransferDone
// without error means it is on stable storage: once all the data has
// arrived the file is fdatasync'ed (before an atomic upload's rename, so a
// crash leaves the old file or the whole new one), and its folder is
// fsync'ed after the rename, or after an in-place upload that made a new
// file. Both run on the transfer's goroutine; a failure fails the upload.
//
// APPE and REST+STOR write in place (a partial upload can be resumed);
// what arrived before a failure stays. STOU creates its unique file
// directly and removes it again when the upload fails and atomic uploads
// are on. Without AtomicUploads STOR truncates and writes in place.
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
// RETR in TYPE I without TLS posts EvTransferStart after its first sendfile
// call; when that call sent the whole file, just before EvTransferDone.
//
// A passive listener that accepted its connection, or that is given up
// unused, goes to a pool of idle listeners (Config.IdleListeners, each kept
// for up to 10 s); the next passive request on the same local address takes
// one, after closing whatever connected to it meanwhile. IdleListeners
// reports how many are held.
//
// An abort (ReqAbort, ReqLogout, CloseSession) closes the listener or data
// connection and cancels a dial; the transfer then ends with an error
// wrapping protocol.ErrAborted. Other data connection failures wrap
// protocol.ErrDataConn; storage failures map to ErrNoSpace, ErrQuota,
// ErrPermission and so on.
//
// # FTPS
//
// With Config.TLS set, a transfer whose ReqTransfer.Protect is true runs
// the server side of a TLS handshake on its data connection once it is
// accepted or dialled, within Config.TLSHandshakeTimeout. A failed
// handshake wraps protocol.ErrTLSHandshake (and its cause); when the
// login must reuse the control connection's TLS session (Config.TLSReuse,
// tls_reuse) a handshake that did not resume a session ticket of this
// session's control connection (Session.SetControlTLS; tls.go explains
// the tags) wraps protocol.ErrTLSReuse. Either way the data connection is
// closed and EvTransferDone comes alone.
//
// Protected data moves through crypto/tls in 256 KiB pooled buffers
// (no sendfile or splice), with the same progress counting, aborts,
// storage errors and atomic uploads. A download, file or listing, that
// completes ends with close_notify before the socket closes; a failed
// one does not, so the client sees it cut. An upload ends at the client's
// close_notify or at a TCP FIN on a TLS record boundary (some clients
// send no close_notify; crypto/tls reports both as the end of the data),
// and is answered with close_notify; a connection that ends inside a
// record fails the upload (protocol.ErrDataConn).
//
// Logins: Config.TLSLogin*, TLSData* and TLSReuse are listener defaults,
// overridden per account by the accounts file. A login that must come
// over TLS and does not (ReqLogin.Secure false) is refused with
// protocol.ErrTLSRequired before any password check; EvLogin.TLSData
// tells the session whether PROT P is required, and the DTP refuses an
// unprotected transfer for such a login too (protocol.ErrPermission).
//
// TYPE A converts LF to CRLF on the way out (an LF already preceded by CR is
// left alone) and CRLF to LF on the way in. Listings always end lines in
// CRLF. Names containing CR or LF are left out of listings: a line-based
// protocol cannot carry them.
package dtp
