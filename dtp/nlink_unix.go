// Link counts from the stat data of os.Stat and os.Lstat on Unix systems.
//go:build unix

package dtp

import (
	"io/fs"
	"syscall"
)

// nlinkOf is fi's st_nlink; 0 when fi carries no stat data.
func nlinkOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 0
}
