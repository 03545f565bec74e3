// Package fair shares rftpd's limited resources between client addresses.
//
// Two kinds of limit live here:
//
//   - Share: a count-limited resource (sessions, transfers, passive
//     listeners, TLS handshakes, queue slots) divided between client
//     addresses under contention and not otherwise.
//   - Budget: the process's file descriptors, from RLIMIT_NOFILE, which
//     every descriptor user draws from, with reserves so that sessions
//     cannot take the descriptors transfers need.
//
// # The sharing scheme
//
// A Share of capacity C keeps a reserve R = C/16, at least 1 from C = 8 on
// (below that the capacity is too small to set any aside). Of the rest,
// F = C-R, the first three quarters are free for all. Beyond them, an
// address that holds h units may take one more while fewer than C are in
// use and
//
//	h < max(1, ⌊F / n⌋), or h < ⌈F / n⌉ while fewer than F are in use,
//
// where n counts the addresses holding any, itself included. So:
//
//   - one address alone may use F, all but the reserve (work-conserving:
//     a load generator from one address is not held back while nobody
//     else wants anything);
//   - n addresses together may fill F, each up to its part once the
//     resource is three quarters full; the reserve then still serves
//     addresses that hold less than their part, so a newcomer gets in
//     even when a few addresses have taken the rest;
//   - with hundreds of addresses every one may hold at least one unit
//     until C is reached; beyond it everyone is refused (a 4xx reply)
//     while what is held goes on.
//
// Holdings are never taken back: parts shrink as addresses arrive and
// apply to the next take. IPv6 addresses count per /64, the block one
// host (or one customer) gets, so that a client cannot multiply its part
// by walking its own prefix.
package fair
