// Package protocol is rftpd's server-PI: the sans-IO protocol interpreter of
// RFC 959 and its extensions (RFC 2389, 2428, 2640, 3659, 7151).
//
// A Session is fed command lines, completion events from the server-DTP and
// the current time; it yields reply bytes, requests for blocking work and its
// next deadline. It performs no I/O and never reads the clock: it imports
// neither net nor os, so every conversation can be tested byte for byte.
//
//	s := protocol.NewSession(cfg, protocol.ConnInfo{...}, now)
//	s.Line([]byte("USER anonymous"), now)
//	out := s.TakeOutput()   // "331 ...\r\n", no requests
//	s.Line([]byte("PASS x"), now)
//	out = s.TakeOutput()    // no reply yet, Requests: [ReqLogin{...}]
//	s.Event(EvLogin{OK: true, ...}, now)
//	out = s.TakeOutput()    // "230 ...\r\n"
//
// # Rules the driver relies on
//
//   - Every command line gets exactly one final reply (plus a 150 before a
//     transfer's), in the order the lines arrived. While a request is in
//     flight (a password check, a file op, a passive listener, a transfer)
//     later lines queue, up to Config.MaxQueued; Ready reports when the queue
//     is full and the driver must stop reading. During a transfer ABOR, STAT
//     and QUIT are served at once, ahead of the queue.
//   - Output belongs to the caller once TakeOutput returns it; an idle session
//     keeps no reply or queue buffers.
//   - Deadline is the next time Tick is needed (login, idle and data
//     connection set-up timers); early Ticks are harmless.
//   - Events the session does not expect in its current state (a late
//     EvTransferStart after an ABOR, say) are ignored.
//
// # Files
//
// state.go holds the states and their transitions as a table; commands.go
// the dispatch table (verb, alias, login, argument rule, permission,
// handler); cmd_*.go the handlers, one file per command family; parse.go,
// reply.go and codes.go the wire syntax; vpath.go, glob.go (the patterns of
// LIST, NLST and STAT) and hostport.go argument syntax; errreply.go the mapping of DTP errors to reply codes. testdata/
// holds golden transcripts, described in testdata/README.md.
package protocol
