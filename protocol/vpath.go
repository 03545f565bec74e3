// Virtual paths: resolving client arguments against the working directory.
package protocol

import (
	"path"
	"strings"
)

// ReservedPrefix begins the names the server keeps for itself: the hidden
// temporary files of atomic uploads (package dtp names them
// ReservedPrefix + instance + "." + random). No command may name a file or
// folder whose name starts with it, in any letter case, nor create one, so
// users can neither reach an upload in progress nor make a stash that no
// listing shows.
const ReservedPrefix = ".rftpd-upload."

// IsReservedName reports whether one path element (a file or folder name)
// starts with ReservedPrefix, ignoring case (the tree may sit on a file
// system that ignores it too).
func IsReservedName(name string) bool {
	return len(name) >= len(ReservedPrefix) && strings.EqualFold(name[:len(ReservedPrefix)], ReservedPrefix)
}

// hasReserved reports whether any element of the path p is a reserved name.
//
//	"/pub/.rftpd-upload.x/a" → true;  "/pub/a.rftpd-upload.x" → false
func hasReserved(p string) bool {
	for p != "" {
		var elem string
		elem, p, _ = strings.Cut(p, "/")
		if IsReservedName(elem) {
			return true
		}
	}
	return false
}

// refuseReserved answers a command whose path (or RNTO's new name) has a
// reserved element, and reports whether it did: 553 ("File name not
// allowed") for the names of uploads and renames, as RFC 959 has it, 550
// for everything else. A cheaper check than the DTP's, and the same
// answer for a name that exists and one that does not.
func (s *Session) refuseReserved(paths ...string) bool {
	for _, p := range paths {
		if !hasReserved(p) {
			continue
		}
		code := codeFileUnavailable
		if c := s.cur; c != nil && (c.verb == "STOR" || c.verb == "APPE" || c.verb == "STOU" || c.verb == "RNTO") {
			code = codeBadFileName
		}
		s.reply(code, txtBadName)
		return true
	}
	return false
}

// resolve turns a client's path argument into a clean absolute FTP path:
// absolute if it starts with "/", else relative to cwd; "." and ".." are
// applied and ".." never climbs above "/". An empty argument is cwd.
//
//	cwd "/pub", "../etc/x" → "/etc/x";  "/../../a" → "/a";  "a//b/" → "/pub/a/b"
func resolve(cwd, arg string) string {
	if arg == "" {
		return cwd
	}
	if arg[0] != '/' {
		arg = cwd + "/" + arg
	}
	return path.Clean(arg) // Clean of a rooted path drops ".." at the root
}

// isCleanAbs reports whether p is a path resolve could return.
func isCleanAbs(p string) bool {
	return p != "" && p[0] == '/' && path.Clean(p) == p
}
