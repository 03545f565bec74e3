//go:build !linux

package reactor

// ioctlInq asks a socket how many received bytes wait unread: FIONREAD,
// _IOR('f', 127, int) on the BSDs and macOS, which x/sys/unix does not name.
const ioctlInq = 0x4004667f
