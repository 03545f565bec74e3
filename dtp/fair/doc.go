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
// A Share of capacity C sets aside a reserve R = max(C/16, min(16, C/4))
// and calls the rest F = C-R. While fewer than C units are in use, an
// address that holds h units may take one more when
//
//   - fewer than three quarters of F are in use (no contention: anyone), or
//   - h = 0: its first unit, from the reserve if need be, or
//   - h < ⌈F/n⌉ and fewer than F are in use, where n counts the addresses
//     holding any: its part of F.
//
// So:
//
//   - one address alone may use F, all but the reserve (work-conserving:
//     a load generator from one address is not held back while nobody
//     else wants anything);
//   - under contention each address is held to its part of F, and the
//     reserve serves only first units: k hostile addresses hold at most k
//     of it, so from C = 36 on (R = 9) eight of them cannot keep a ninth
//     address out, and with the defaults (C of 1,024 transfers or TLS
//     handshakes, R = 64) dozens cannot;
//   - with hundreds of addresses every one may hold a unit until C is
//     reached; beyond it everyone is refused (a 4xx reply) while what is
//     held goes on.
//
// Holdings are never taken back: parts shrink as addresses arrive and
// apply to the next take. IPv6 addresses count per /64, the block one
// host (or one customer) gets, so that a client cannot multiply its part
// by walking its own prefix.
package fair
