// Account permissions.
package protocol

import "strings"

// Perm is the set of actions an account may perform.
type Perm uint8

const (
	PermRead   Perm = 1 << iota // RETR, LIST, NLST, MLSD, MLST, SIZE, MDTM, STAT path
	PermWrite                   // STOR, APPE, STOU, MFMT, SITE CHMOD
	PermDelete                  // DELE, RMD
	PermRename                  // RNFR/RNTO
	PermMkdir                   // MKD
)

var permNames = [...]struct {
	p    Perm
	name string
}{{PermRead, "read"}, {PermWrite, "write"}, {PermDelete, "delete"}, {PermRename, "rename"}, {PermMkdir, "mkdir"}}

// ParsePerm maps a permission name from the accounts file to its bit.
func ParsePerm(name string) (Perm, bool) {
	for _, n := range permNames {
		if n.name == name {
			return n.p, true
		}
	}
	return 0, false
}

// String lists the permission names, comma separated.
func (p Perm) String() string {
	var b strings.Builder
	for _, n := range permNames {
		if p&n.p != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n.name)
		}
	}
	return b.String()
}
