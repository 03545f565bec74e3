// STOR, APPE, STOU: data from the client into a file, by splice in TYPE I.
package dtp

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"github.com/rftpd/rftpd/protocol"
)

// headMax is how much of an upload is read into a buffer before the rest
// is spliced (Linux: spliceFile). A pipe costs four system calls of its
// own (pipe2, F_SETPIPE_SZ and two closes) and its splice calls come in
// pairs, so small files are cheaper read and written.
const headMax = bufSize

// stouTries bounds the attempts at a fresh STOU or temporary file name.
const stouTries = 16

// tempPrefix begins the name of an atomic upload's temporary file
// (cleanup.go has the rest of the name). It is the protocol's reserved
// prefix: such files are never listed, and no command can name them.
const tempPrefix = protocol.ReservedPrefix

// isTempName reports whether name is an atomic upload's temporary file.
func isTempName(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// upload is the file an upload writes into: the target itself (in place),
// or a temporary file that is renamed over the target on success.
type upload struct {
	root  *os.Root
	f     *os.File
	rel   string // the target, root-relative (STOU: the file it made)
	temp  string // root-relative temporary file; "" when writing in place
	name  string // STOU: the base name it made
	made  bool   // STOU: the file is new, removed again if the upload fails
	fresh bool   // no file had the target's name: writing in place makes a new directory entry
}

// store receives a file. Nothing is created or truncated before the data
// connection is open, so a failed data connection leaves the old file as
// it was; cheap checks (parent directory, not a directory) come first so
// that hopeless uploads are refused without a data connection.
//
// With Config.AtomicUploads a STOR without REST writes to a temporary
// file and renames it over the target only after the data has arrived
// whole and no abort came first; otherwise, and on any error, the
// temporary file is removed. APPE and REST+STOR write in place.
func (s *Server) store(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) (int64, error) {
	if err := id.allow(protocol.PermWrite); err != nil {
		return 0, err
	}
	if err := s.hook("open"); err != nil {
		return 0, storageErr(err)
	}
	rel := relPath(r.Path)
	if err := checkRel(rel); err != nil {
		return 0, err
	}
	viaTemp := s.cfg.AtomicUploads && r.Kind == protocol.XferStor && r.Offset == 0
	tgt, err := precheckStore(id, rel, r, viaTemp)
	if err != nil {
		return 0, err
	}
	c, err := s.dataConn(sess, t, r.Protect)
	if err != nil {
		return 0, err
	}
	// A protected upload's handshake goes before the file is opened, so
	// that a failed one leaves an existing file as it was, even when it
	// would have been written in place. STOU's 150 reply names a new file,
	// which must exist first; a failed handshake removes it again.
	early := r.Protect && r.Kind != protocol.XferStou
	var tc *tls.Conn
	if early {
		t.start(post, -1, "")
		if tc, err = s.secure(sess, id, c, true); err != nil {
			return 0, err
		}
	}
	u, err := s.openStore(id.root, rel, r, viaTemp, tgt.mode)
	if err != nil {
		return 0, err
	}
	u.fresh = !tgt.exists
	if !early {
		t.start(post, -1, u.name)
		if tc, err = s.secure(sess, id, c, r.Protect); err != nil {
			if u.made {
				removeFile(u.root, u.rel) // no data came: the new file goes
			}
			u.discard()
			return 0, err
		}
	}
	var check func() error
	if s.cfg.OpHook != nil {
		check = func() error { return s.hook("write") }
	}
	var n int64
	in := io.Reader(t.dataOut(c, tc)) // limited to its rates, if any
	var zr io.ReadCloser
	if r.Deflate > 0 {
		// MODE Z: the client's zlib stream; a corrupt one fails the
		// upload like a broken connection (426, nothing replaced).
		if zr, err = newInflater(in); err != nil {
			err = connErr("read", err)
		} else {
			in = zr
		}
	}
	switch {
	case err != nil:
	case r.ASCII:
		n, err = recvASCII(u.f, in, &t.bytes, check)
	case tc != nil || zr != nil:
		n, err = recvStream(u.f, in, &t.bytes, check)
	default:
		n, err = spliceFile(u.f, c, &t.bytes, check, t.lim)
	}
	if zr != nil {
		freeInflater(zr)
	}
	if err == nil {
		endUpload(c, tc)
	}
	if err == nil && r.Kind == protocol.XferStor && r.Offset > 0 {
		// A resumed upload ends where the client's data ends, even when
		// the old file was longer.
		if end, serr := u.f.Seek(0, io.SeekCurrent); serr == nil {
			err = storageErr(u.f.Truncate(end))
		}
	}
	if err == nil && s.cfg.DurableUploads {
		// The data on stable storage before the name (finishUpload).
		if err = storageErr(s.hook("sync")); err == nil {
			err = storageErr(syncData(u.f))
		}
	}
	return n, s.finishUpload(t, id, u, err)
}

// finishUpload commits or discards an upload whose data has moved (err ==
// nil; with DurableUploads, synced) or failed, and closes its file. An
// atomic upload is renamed over its target, unless an abort came first; a
// failed one is removed. Its temporary file stays open, and so locked
// against the start-up clean-up of other instances (cleanup.go), until it
// has been renamed or removed. In-place uploads keep what was written,
// except STOU's new file when atomic uploads are on. With DurableUploads
// the folder is synced after a rename, or after an in-place upload that
// made a new file, so that the name is on stable storage too before the
// 226; a failure then is an error although the file is in place.
func (s *Server) finishUpload(t *transfer, id *identity, u *upload, err error) error {
	if u.temp == "" {
		if cerr := u.f.Close(); err == nil && cerr != nil {
			err = storageErr(cerr)
		}
		if err == nil && (u.fresh || u.made) {
			err = s.syncName(id, u.rel)
		}
		if err != nil && u.made && s.cfg.AtomicUploads {
			removeFile(u.root, u.rel)
		}
		return err
	}
	if err == nil {
		err = storageErr(s.hook("commit"))
	}
	if err == nil && t.finish() {
		// ABOR before the commit: the old file stays. Once finish has
		// run, an abort is too late and the upload completes.
		err = fmt.Errorf("dtp: %w", protocol.ErrAborted)
	}
	if err == nil {
		err = storageErr(u.root.Rename(u.temp, u.rel))
	}
	if err != nil {
		u.discard()
		return err
	}
	err = s.syncName(id, u.rel)
	if cerr := u.f.Close(); err == nil {
		err = storageErr(cerr)
	}
	return err
}

// syncName makes the directory entry of rel durable (DurableUploads):
// fsync of its folder.
func (s *Server) syncName(id *identity, rel string) error {
	if !s.cfg.DurableUploads {
		return nil
	}
	if err := s.hook("syncdir"); err != nil {
		return storageErr(err)
	}
	dir, _ := splitRel(rel)
	return storageErr(syncDir(id, dir))
}

// discard removes the temporary file of an upload that failed, then
// closes it (which gives up its lock).
func (u *upload) discard() {
	if u.temp != "" {
		removeFile(u.root, u.temp)
	}
	u.f.Close()
}

// target is what precheckStore found at an upload's name.
type target struct {
	exists bool         // a file is there (STOU: always false)
	mode   *fs.FileMode // its permission bits, for an upload via a temporary file
}

// precheckStore refuses an upload that cannot succeed, without changing
// anything: for STOR/APPE the parent must be a directory, an existing
// target must be a regular file (not a directory, FIFO, socket or
// device), and a REST offset must fit the file (checkOffset); for
// STOU the target must be a directory. For an upload via a temporary file
// an existing target must be a regular file this process could write in
// place; its permission bits are returned for the new file.
func precheckStore(id *identity, rel string, r protocol.ReqTransfer, viaTemp bool) (target, error) {
	if r.Kind == protocol.XferStou {
		fi, err := statPath(id, rel)
		if err != nil {
			return target{}, storageErr(err)
		}
		if !fi.IsDir() {
			return target{}, fmt.Errorf("dtp: %w", protocol.ErrNotDir)
		}
		return target{}, nil
	}
	if rel == "." {
		return target{}, fmt.Errorf("dtp: %w", protocol.ErrIsDir)
	}
	fi, err := statPath(id, rel)
	if err != nil {
		// The parent's trouble, if any, is the answer. A target that
		// could be looked at needs no such check: the path to it
		// went through its parent as a directory.
		dir, _ := splitRel(rel)
		dfi, derr := statPath(id, dir)
		if derr != nil {
			return target{}, storageErr(derr)
		}
		if !dfi.IsDir() {
			return target{}, fmt.Errorf("dtp: %w", protocol.ErrNotDir)
		}
	}
	switch {
	case err == nil && fi.IsDir():
		return target{}, fmt.Errorf("dtp: %w", protocol.ErrIsDir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return target{}, storageErr(err)
	case err != nil:
		return target{}, checkOffset(r, 0) // resuming needs a file to resume
	case !fi.Mode().IsRegular():
		// A FIFO, socket or device is neither written nor replaced.
		return target{}, errNotRegular
	}
	if err := checkOffset(r, fi.Size()); err != nil || !viaTemp {
		return target{exists: true}, err
	}
	// The rename would replace a file this process may not write (the
	// directory's permissions are what rename checks): ask the file.
	f, err := id.root.OpenFile(rel, os.O_WRONLY|oNonblock, 0)
	if err != nil {
		return target{}, storageErr(err)
	}
	// The old file's cached pages go now, as a truncate in place would
	// free them: on a server whose page cache is full (its normal state)
	// the temporary file's pages otherwise all come from reclaim while
	// the old ones stay, and a 1 GiB STOR over a cached file cost 1.2 to
	// 2.8 times the CPU of writing in place (0.5 to 0.7 with this).
	// Pages a download is sending are kept.
	dropCache(f)
	f.Close()
	perm := fi.Mode().Perm()
	return target{exists: true, mode: &perm}, nil
}

// checkOffset refuses a REST offset that does not fit an upload onto a
// file of size bytes (0: no file): REST+STOR may resume anywhere up to the
// end of the file, never beyond it (that would leave a hole, or make a
// file that was never there); REST+APPE only at the end, where APPE
// writes. Without REST (offset 0) anything goes.
func checkOffset(r protocol.ReqTransfer, size int64) error {
	switch {
	case r.Offset == 0:
		return nil
	case r.Kind == protocol.XferStor && r.Offset <= size, r.Kind == protocol.XferAppe && r.Offset == size:
		return nil
	}
	return fmt.Errorf("dtp: REST %d on a file of %d bytes: %w", r.Offset, size, protocol.ErrBadOffset)
}

// openStore opens the file to write, positioned where the data goes: a
// new temporary file next to the target when viaTemp (with the old file's
// permission bits mode, if any), else the target itself. APPE opens
// without O_APPEND (which would rule out splice) and seeks to the end.
// STOU makes up a name and creates its file directly. An upload with a
// REST offset never creates its file, and checks the offset again against
// the file it opened.
func (s *Server) openStore(root *os.Root, rel string, r protocol.ReqTransfer, viaTemp bool, mode *fs.FileMode) (*upload, error) {
	const w = os.O_WRONLY | os.O_CREATE | oNonblock
	u := &upload{root: root, rel: rel}
	var f *os.File
	var err error
	switch {
	case viaTemp:
		dir, _ := splitRel(rel)
		f, u.temp, err = s.createTemp(root, dir)
		if err == nil && mode != nil {
			err = f.Chmod(*mode)
		}
	case r.Offset > 0: // REST+STOR or REST+APPE: the file must be there
		f, err = root.OpenFile(rel, os.O_WRONLY|oNonblock, 0)
		if err == nil {
			_, err = f.Seek(r.Offset, io.SeekStart)
		}
	case r.Kind == protocol.XferStor:
		f, err = root.OpenFile(rel, w|os.O_TRUNC, 0o644)
	case r.Kind == protocol.XferAppe:
		f, err = root.OpenFile(rel, w, 0o644)
		if err == nil {
			_, err = f.Seek(0, io.SeekEnd)
		}
	case r.Kind == protocol.XferStou:
		for range stouTries {
			u.name = "stou." + randomHex()
			u.rel = path.Join(rel, u.name)
			f, err = root.OpenFile(u.rel, w|os.O_EXCL, 0o644)
			if !errors.Is(err, fs.ErrExist) {
				break
			}
		}
		u.made = err == nil
	}
	if err == nil {
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
			err = errNotRegular
		} else if err == nil {
			err = checkOffset(r, fi.Size()) // it may have changed since precheckStore
		}
	}
	if err != nil {
		if f != nil {
			if u.temp != "" {
				removeFile(root, u.temp)
			}
			f.Close()
		}
		return nil, storageErr(err)
	}
	u.f = f
	return u, nil
}

// randomHex returns 12 random hex digits for STOU and temporary names.
func randomHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// copyFromConn copies c into f until EOF, chunk by chunk so that progress
// shows: the portable form of spliceFile. check, when set, runs before
// every chunk and stops the copy with its error. File.ReadFrom still splices
// where the OS can, provided the file is not in O_APPEND mode and c stays
// visible (an io.LimitedReader around it is unwrapped). Under a bandwidth
// limit (lim) the chunks are its slices, each paid for.
func copyFromConn(f *os.File, c *net.TCPConn, progress *atomic.Int64, check func() error, lim *limiter) (int64, error) {
	lr := io.LimitedReader{R: c}
	var total int64
	for {
		if check != nil {
			if err := check(); err != nil {
				return total, storageErr(err)
			}
		}
		want := int64(chunk)
		if paced := lim.slice(chunk); paced > 0 {
			want = int64(paced)
		}
		lr.N = want
		n, err := f.ReadFrom(&lr)
		total += n
		progress.Add(n)
		if err != nil {
			return total, moveErr("splice", err)
		}
		if err := lim.pay(int(n)); err != nil {
			return total, connErr("splice", err)
		}
		if n < want { // the client closed the connection: end of file
			return total, nil
		}
	}
}

// recvASCII copies c into f, turning CRLF into LF (a lone CR stays).
// check, when set, runs before every write to f and stops the copy with
// its error.
func recvASCII(f *os.File, c io.Reader, progress *atomic.Int64, check func() error) (int64, error) {
	in := bufs.Get().(*[]byte)
	out := bufs.Get().(*[]byte)
	defer bufs.Put(in)
	defer bufs.Put(out)
	var total int64
	var cr bool
	for {
		n, rerr := c.Read(*in)
		total += int64(n)
		progress.Add(int64(n))
		if n > 0 {
			var o []byte
			o, cr = fromCRLF((*out)[:0], (*in)[:n], cr)
			if check != nil {
				if err := check(); err != nil {
					return total, storageErr(err)
				}
			}
			if _, werr := f.Write(o); werr != nil {
				return total, storageErr(werr)
			}
		}
		if rerr == io.EOF {
			if cr {
				if _, werr := f.Write([]byte{'\r'}); werr != nil {
					return total, storageErr(werr)
				}
			}
			return total, nil
		}
		if rerr != nil {
			return total, connErr("read", rerr)
		}
	}
}

// fromCRLF appends src to dst with each CRLF turned into LF. cr says a CR
// ended the previous buffer and was held back; the returned flag says
// whether this buffer's last CR was held back. dst never outgrows src
// plus one byte.
func fromCRLF(dst, src []byte, cr bool) ([]byte, bool) {
	if cr {
		if len(src) == 0 {
			return dst, true
		}
		if src[0] != '\n' {
			dst = append(dst, '\r')
		}
	}
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\r')
		if i < 0 {
			return append(dst, src...), false
		}
		dst = append(dst, src[:i]...)
		src = src[i+1:]
		if len(src) == 0 {
			return dst, true
		}
		if src[0] != '\n' {
			dst = append(dst, '\r')
		}
	}
	return dst, false
}
