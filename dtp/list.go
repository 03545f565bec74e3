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
	"slices"
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
	root    *os.Root
	dir     string // root-relative directory being listed
	kind    protocol.XferKind
	all     bool           // show dot files
	glob    *protocol.Glob // list only the entries whose names match it; nil: all
	prefix  string         // NLST: goes before each name (protocol.ReqTransfer.NamePrefix)
	sortMax int            // sort when at most this many entries are shown (Config.ListSortMax)
	maxHeld int            // the most names held for sorting at once (for tests)
	perms   protocol.Perm
	facts   protocol.Facts // MLSD's (OPTS MLST)
	now     time.Time
}

func (s *Server) newLister(id *identity, rel string, kind protocol.XferKind, flags protocol.ListFlags, facts protocol.Facts) *lister {
	return &lister{
		root:    id.root,
		dir:     rel,
		kind:    kind,
		all:     flags&protocol.ListAll != 0 || kind == protocol.XferMlsd,
		sortMax: s.cfg.ListSortMax,
		perms:   id.perms,
		facts:   facts,
		now:     time.Now(),
	}
}

// shows reports whether the entry name is listed, from its name alone:
// not when it is hidden (a dot file without -a, or not matching the
// pattern, which has its own rule for dot files), when it cannot be sent
// on a line-based protocol, or when it is reserved (the temporary files
// of atomic uploads are never shown, not even with -a, MLSD or a
// pattern).
func (l *lister) shows(name string) bool {
	if l.glob != nil {
		if !l.glob.Match(name) {
			return false
		}
	} else if !l.all && strings.HasPrefix(name, ".") {
		return false
	}
	return sendable(name) && !protocol.IsReservedName(name)
}

// entry appends the line of the directory entry name, or nothing when it
// cannot be looked at. A symlink is shown as what it points to (ls -L),
// and not at all when that is outside the root or missing.
func (l *lister) entry(b []byte, d *dirScanner, name string) []byte {
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
		b = append(b, l.prefix...)
		return protocol.AppendNLST(b, fi)
	case protocol.XferMlsd:
		b = protocol.AppendFacts(b, fi, protocol.FactFile, l.perms, l.facts, fi.Name)
		return append(b, '\r', '\n')
	default:
		return protocol.AppendLIST(b, fi, l.now)
	}
}

// stream reads dir batch by batch, appends the lines of the entries it
// shows to b and hands them to flush, which returns the buffer to go on
// with; an error from flush stops the listing.
//
// The names shown are held, not sent, while there are at most sortMax of
// them: a folder that has no more is sent sorted by name once the scan
// ends. The first name past sortMax sends the held ones as they came and
// the listing streams from there in the file system's order, batch by
// batch: a listing never holds more than sortMax names, nor more than one
// batch of lines, however large the folder (a pattern is applied to each
// name as it is read).
func (l *lister) stream(dir *os.File, b []byte, flush func([]byte) ([]byte, error)) ([]byte, error) {
	d, err := newDirScanner(dir, l.root, l.dir)
	if err != nil {
		return b, storageErr(err)
	}
	defer d.close()
	var held []string
	holding := l.sortMax > 0
	for {
		names, rerr := d.next()
		for _, name := range names {
			if !l.shows(name) {
				continue
			}
			if holding {
				if len(held) < l.sortMax {
					held = append(held, name) // the scanner's strings are not reused
					l.maxHeld = max(l.maxHeld, len(held))
					continue
				}
				holding = false
				if b, err = l.entries(b, d, held, flush); err != nil {
					return b, err
				}
				held = nil
			}
			b = l.entry(b, d, name)
		}
		end := rerr == io.EOF || (rerr == nil && len(names) == 0)
		if holding && end {
			slices.Sort(held)
			return l.entries(b, d, held, flush)
		}
		if !holding {
			if b, err = flush(b); err != nil {
				return b, err
			}
		}
		if end {
			return b, nil
		}
		if rerr != nil {
			return b, storageErr(rerr)
		}
	}
}

// entries appends the lines of names, flushing every listBatch of them
// and after the last.
func (l *lister) entries(b []byte, d *dirScanner, names []string, flush func([]byte) ([]byte, error)) ([]byte, error) {
	var err error
	for i, name := range names {
		b = l.entry(b, d, name)
		if (i+1)%listBatch == 0 {
			if b, err = flush(b); err != nil {
				return b, err
			}
		}
	}
	return flush(b)
}

// openList opens what a listing of p lists, before any data connection
// is made: the directory or file at p, or, when glob is set and nothing
// is at p, the folder of p; then pattern is p's last element, which
// selects the entries to list (protocol.ParseGlob). A name with *, ? or [
// in it that exists is listed as it is, as vsftpd does; a folder that
// does not exist is not found either way.
func (s *Server) openList(id *identity, p string, glob bool) (f *os.File, fi fs.FileInfo, dir string, pattern *protocol.Glob, err error) {
	if err := id.allow(protocol.PermRead); err != nil {
		return nil, nil, "", nil, err
	}
	if err := s.hook("list"); err != nil {
		return nil, nil, "", nil, err
	}
	rel := relPath(p)
	if err := checkRel(rel); err != nil {
		return nil, nil, "", nil, err
	}
	f, err = openRead(id.root, rel)
	if err != nil && glob && errors.Is(err, fs.ErrNotExist) {
		folder, last := path.Split(rel)
		if g, ok := protocol.ParseGlob(last); ok {
			pattern, rel = &g, relPath(folder)
			f, err = openRead(id.root, rel)
		}
	}
	if err != nil {
		return nil, nil, "", nil, storageErr(err)
	}
	fi, err = f.Stat()
	if err == nil && pattern != nil && !fi.IsDir() {
		err = fmt.Errorf("dtp: %w", protocol.ErrNotDir)
	}
	if err != nil {
		f.Close()
		return nil, nil, "", nil, storageErr(err)
	}
	return f, fi, rel, pattern, nil
}

// list sends a LIST, NLST or MLSD listing. A file path lists that one file
// (MLSD refuses it: RFC 3659 wants a directory); a pattern lists the
// entries of its folder that match it.
func (s *Server) list(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) (int64, error) {
	gen, started := s.statc.generation(), time.Now() // before the folder is read
	glob := r.Glob && (r.Kind == protocol.XferList || r.Kind == protocol.XferNlst)
	f, fi, dir, pattern, err := s.openList(id, r.Path, glob)
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
	out, finish := deflated(dataOut(c, tc), r.Deflate)

	l := s.newLister(id, dir, r.Kind, r.Flags, protocol.AllFacts&^r.Hide)
	if pattern != nil {
		l.glob, l.prefix = pattern, r.NamePrefix
	}
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
		return total, endDownload(tc, endDeflate(finish, err))
	}
	key := listKey{root: id.root, dir: dir, kind: r.Kind, all: l.all, perms: l.perms, facts: l.facts}
	if l.glob != nil {
		key.glob, key.prefix = *l.glob, l.prefix
	}
	if cached, ok := s.listc.get(key, time.Now()); ok {
		_, err = write(cached.b)
		s.listc.release(cached)
		return total, endDownload(tc, endDeflate(finish, err))
	}
	lc := s.listc.capture(key, gen, started)
	b := buf.B[:0]
	if r.Kind == protocol.XferMlsd {
		b = protocol.AppendFacts(b, infoOf(fi, "."), protocol.FactCdir, l.perms, l.facts, ".")
		b = append(b, '\r', '\n')
	}
	buf.B, err = l.stream(f, b, func(b []byte) ([]byte, error) {
		lc.add(b)
		return write(b)
	})
	if err == nil {
		lc.keep()
	} else {
		lc.abandon()
	}
	return total, endDownload(tc, endDeflate(finish, err))
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
	f, fi, dir, pattern, err := s.openList(id, r.Path, r.Glob)
	if err != nil {
		return protocol.EvStatList{Err: err}
	}
	defer f.Close()
	l := s.newLister(id, dir, protocol.XferList, 0, 0)
	l.glob = pattern
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
