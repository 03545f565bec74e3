// Listing a directory elsewhere: names, then an lstat through the root.
//go:build !linux

package dtp

import (
	"os"
	"path"

	"github.com/rftpd/rftpd/protocol"
)

type dirScanner struct {
	dir  *os.File
	root *os.Root
	rel  string // the directory, relative to root
}

func newDirScanner(dir *os.File, root *os.Root, rel string) (*dirScanner, error) {
	return &dirScanner{dir: dir, root: root, rel: rel}, nil
}

// close is the end of the scan.
func (d *dirScanner) close() {}

// next returns the names of the next entries; io.EOF after the last.
func (d *dirScanner) next() ([]string, error) { return d.dir.Readdirnames(listBatch) }

// lstat describes the entry name without following a symlink.
func (d *dirScanner) lstat(name string) (protocol.FileInfo, error) {
	fi, err := d.root.Lstat(path.Join(d.rel, name))
	if err != nil {
		return protocol.FileInfo{}, err
	}
	return infoOf(fi, name), nil
}
