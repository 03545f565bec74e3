// Listings: LIST, NLST and MLSD on the data connection, and STAT <path>.
package dtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/rftpd/rftpd/protocol"
)

// listBatch is how many directory entries are read, formatted and written
// at a time, so that a listing never sits in memory whole. On Linux a
// batch is what one getdents64 call returns (dirScanBuf bytes of entries).
const listBatch = 256

// errListFull stops a STAT listing that reached its cap.
var errListFull = errors.New("dtp: listing full")

// lister formats the entries of one directory. Lines end in CRLF whatever
// the TYPE.
type lister struct {
	root  *os.Root
	dir   string // root-relative directory being listed
	kind  protocol.XferKind
	all   bool // show dot files
	perms protocol.Perm
	facts protocol.Facts // MLSD's (OPTS MLST)
	now   time.Time
}

func newLister(id *identity, rel string, kind protocol.XferKind, flags protocol.ListFlags, facts protocol.Facts) *lister {
	return &lister{
		root:  id.root,
		dir:   rel,
		kind:  kind,
		all:   flags&protocol.ListAll != 0 || kind == protocol.XferMlsd,
		perms: id.perms,
		facts: facts,
		now:   time.Now(),
	}
}

// entry appends the line of the directory entry name, or nothing when it
// is hidden, its name cannot be sent on a line-based protocol, or it
// cannot be looked at. A symlink is shown as what it points to (ls -L),
// and not at all when that is outside the root or missing. Reserved
// names (the temporary files of atomic uploads) are never shown, not even
// with -a or MLSD.
func (l *lister) entry(b []byte, d *dirScanner, name string) []byte {
	if (!l.all && strings.HasPrefix(name, ".")) || !sendable(name) || protocol.IsReservedName(name) {
		return b
	}
	fi, err := d.lstat(name)
	if err != nil {
		return b
	}
	if fi.Mode&fs.ModeSymlink != 0 {
		st, err := l.root.Stat(path.Join(l.dir, name))
		if err != nil {
			return b
		}
		fi = infoOf(st, name)
	}
	return l.line(b, fi)
}

// sendable reports whether a name can go on a line of a listing: CR and
// LF would end the line early (and a STAT listing goes on the control
// connection).
func sendable(name string) bool {
	return strings.IndexByte(name, '\r') < 0 && strings.IndexByte(name, '\n') < 0
}

// line appends fi in the listing's format; nothing if its name cannot be sent.
func (l *lister) line(b []byte, fi protocol.FileInfo) []byte {
	if !sendable(fi.Name) {
		return b
	}
	switch l.kind {
	case protocol.XferNlst:
		return protocol.AppendNLST(b, fi)
	case protocol.XferMlsd:
		b = protocol.AppendFacts(b, fi, protocol.FactFile, l.perms, l.facts, fi.Name)
		return append(b, '\r', '\n')
	default:
		return protocol.AppendLIST(b, fi, l.now)
	}
}

// stream reads dir batch by batch, appends each batch's lines to b and
// hands them to flush, which returns the buffer to go on with; an error
// from flush stops the listing.
func (l *lister) stream(dir *os.File, b []byte, flush func([]byte) ([]byte, error)) ([]byte, error) {
	d, err := newDirScanner(dir, l.root, l.dir)
	if err != nil {
		return b, storageErr(err)
	}
	for {
		names, rerr := d.next()
		for _, name := range names {
			b = l.entry(b, d, name)
		}
		var err error
		if b, err = flush(b); err != nil {
			return b, err
		}
		if rerr == io.EOF || (rerr == nil && len(names) == 0) {
			return b, nil
		}
		if rerr != nil {
			return b, storageErr(rerr)
		}
	}
}

// openList opens the directory or file to list, before any data
// connection is made.
func (s *Server) openList(id *identity, p string) (*os.File, fs.FileInfo, error) {
	if err := id.allow(protocol.PermRead); err != nil {
		return nil, nil, err
	}
	if err := s.hook("list"); err != nil {
		return nil, nil, err
	}
	rel := relPath(p)
	if err := checkRel(rel); err != nil {
		return nil, nil, err
	}
	f, err := openRead(id.root, rel)
	if err != nil {
		return nil, nil, storageErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, storageErr(err)
	}
	return f, fi, nil
}

// list sends a LIST, NLST or MLSD listing. A file path lists that one file
// (MLSD refuses it: RFC 3659 wants a directory).
func (s *Server) list(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) (int64, error) {
	f, fi, err := s.openList(id, r.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if !fi.IsDir() && r.Kind == protocol.XferMlsd {
		return 0, fmt.Errorf("dtp: %w", protocol.ErrNotDir)
	}
	c, err := s.dataConn(sess, t, r.Protect)
	if err != nil {
		return 0, err
	}
	limitUnsent(c, s.cfg.DataUnsent)
	t.start(post, -1, "")
	tc, err := s.secure(sess, id, c, r.Protect)
	if err != nil {
		return 0, err
	}
	out := dataOut(c, tc)

	l := newLister(id, relPath(r.Path), r.Kind, r.Flags, protocol.AllFacts&^r.Hide)
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	var total int64
	write := func(b []byte) ([]byte, error) {
		if len(b) == 0 {
			return b, nil
		}
		n, err := out.Write(b)
		total += int64(n)
		t.bytes.Add(int64(n))
		if err != nil {
			return b[:0], connErr("write", err)
		}
		return b[:0], nil
	}
	if !fi.IsDir() {
		buf.B, err = write(l.line(buf.B[:0], infoOf(fi, baseName(r.Path))))
		return total, endDownload(tc, err)
	}
	b := buf.B[:0]
	if r.Kind == protocol.XferMlsd {
		b = protocol.AppendFacts(b, infoOf(fi, "."), protocol.FactCdir, l.perms, l.facts, ".")
		b = append(b, '\r', '\n')
	}
	buf.B, err = l.stream(f, b, write)
	return total, endDownload(tc, err)
}

// statList queues a ReqStatList on the storage pool.
func (s *Server) statList(sess *Session, r protocol.ReqStatList, post func(protocol.Event)) {
	if !s.fs.submit(sess.info.Remote.Addr(), func() {
		id := sess.holdIdentity()
		ev := s.runStatList(id, r)
		releaseIdentity(id)
		post(ev)
	}) {
		post(protocol.EvStatList{Err: protocol.ErrBusy})
	}
}

// runStatList makes the LIST lines of r.Path for STAT, at most
// StatListMax bytes of them; a cut listing ends with a line saying so.
func (s *Server) runStatList(id *identity, r protocol.ReqStatList) protocol.EvStatList {
	f, fi, err := s.openList(id, r.Path)
	if err != nil {
		return protocol.EvStatList{Err: err}
	}
	defer f.Close()
	l := newLister(id, relPath(r.Path), protocol.XferList, 0, 0)
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	if !fi.IsDir() {
		buf.B = l.line(buf.B[:0], infoOf(fi, baseName(r.Path)))
		return protocol.EvStatList{Lines: bytes.Clone(buf.B)}
	}
	limit := s.cfg.StatListMax
	buf.B, err = l.stream(f, buf.B[:0], func(b []byte) ([]byte, error) {
		if len(b) > limit {
			return b, errListFull
		}
		return b, nil
	})
	b := buf.B
	switch {
	case errors.Is(err, errListFull):
		b = b[:bytes.LastIndex(b[:limit], []byte("\r\n"))+2]
		b = fmt.Appendf(b, "(listing cut short at %d bytes)\r\n", limit)
	case err != nil:
		return protocol.EvStatList{Err: err}
	}
	return protocol.EvStatList{Lines: bytes.Clone(b)}
}
