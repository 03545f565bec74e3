package reactor

import "golang.org/x/sys/unix"

// ioctlInq asks a socket how many received bytes wait unread.
const ioctlInq = unix.SIOCINQ
