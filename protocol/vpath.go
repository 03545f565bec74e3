// Virtual paths: resolving client arguments against the working directory.
package protocol

import "path"

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
