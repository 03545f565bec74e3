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
package protocol
