// Package dtp is rftpd's server-DTP and storage: everything that blocks.
//
// It runs the requests a protocol.Session emits — password checks, storage
// operations through os.Root, passive listeners, active dials and the data
// transfers themselves (sendfile for RETR, splice for STOR/APPE) — on bounded
// worker pools, and reports each result through the post callback the reactor
// gives it. Nothing here runs on the event loop except Do's enqueueing and the
// socket closes of ReqAbort.
package dtp
