// STOR, APPE, STOU: data from the client into a file, by splice in TYPE I.
package dtp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"sync/atomic"

	"github.com/rftpd/rftpd/protocol"
)

// stouTries bounds the attempts at a fresh STOU name.
const stouTries = 16

// store receives a file. Nothing is created or truncated before the data
// connection is open, so a failed data connection leaves the old file as
// it was; cheap checks (parent directory, not a directory) come first so
// that hopeless uploads are refused without a data connection.
func (s *Server) store(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) (int64, error) {
	if err := id.allow(protocol.PermWrite); err != nil {
		return 0, err
	}
	if err := s.hook("open"); err != nil {
		return 0, err
	}
	rel := relPath(r.Path)
	if err := precheckStore(id.root, rel, r.Kind == protocol.XferStou); err != nil {
		return 0, err
	}
	c, err := s.dataConn(sess, t)
	if err != nil {
		return 0, err
	}
	f, name, err := openStore(id.root, rel, r)
	if err != nil {
		return 0, err
	}
	t.start(post, -1, name)
	var n int64
	if r.ASCII {
		n, err = recvASCII(f, c, &t.bytes)
	} else {
		n, err = spliceFile(f, c, &t.bytes)
	}
	if err == nil && r.Kind == protocol.XferStor && r.Offset > 0 {
		// A resumed upload ends where the client's data ends, even when
		// the old file was longer.
		if end, serr := f.Seek(0, io.SeekCurrent); serr == nil {
			err = storageErr(f.Truncate(end))
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = storageErr(cerr)
	}
	return n, err
}

// precheckStore refuses an upload that cannot succeed, without changing
// anything: for STOR/APPE the parent must be a directory and the target
// must not be one; for STOU the target must be a directory.
func precheckStore(root *os.Root, rel string, stou bool) error {
	if stou {
		fi, err := root.Stat(rel)
		if err != nil {
			return storageErr(err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("dtp: %w", protocol.ErrNotDir)
		}
		return nil
	}
	if rel == "." {
		return fmt.Errorf("dtp: %w", protocol.ErrIsDir)
	}
	dir, _ := splitRel(rel)
	fi, err := root.Stat(dir)
	if err != nil {
		return storageErr(err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("dtp: %w", protocol.ErrNotDir)
	}
	fi, err = root.Stat(rel)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("dtp: %w", protocol.ErrIsDir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return storageErr(err)
	}
	return nil
}

// openStore opens the file to write, positioned where the data goes.
// APPE opens without O_APPEND (which would rule out splice) and seeks to
// the end. STOU returns the name it made up.
func openStore(root *os.Root, rel string, r protocol.ReqTransfer) (f *os.File, name string, err error) {
	const w = os.O_WRONLY | os.O_CREATE | oNonblock
	switch r.Kind {
	case protocol.XferStor:
		flags := w | os.O_TRUNC
		if r.Offset > 0 {
			flags = w
		}
		f, err = root.OpenFile(rel, flags, 0o644)
		if err == nil && r.Offset > 0 {
			_, err = f.Seek(r.Offset, io.SeekStart)
		}
	case protocol.XferAppe:
		f, err = root.OpenFile(rel, w, 0o644)
		if err == nil {
			_, err = f.Seek(0, io.SeekEnd)
		}
	case protocol.XferStou:
		for range stouTries {
			name = uniqueName()
			f, err = root.OpenFile(path.Join(rel, name), w|os.O_EXCL, 0o644)
			if !errors.Is(err, fs.ErrExist) {
				break
			}
		}
	}
	if err == nil {
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("dtp: not a regular file: %w", protocol.ErrPermission)
		}
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, "", storageErr(err)
	}
	return f, name, nil
}

// uniqueName makes a STOU file name: "stou." and 12 random hex digits.
func uniqueName() string {
	var b [6]byte
	rand.Read(b[:])
	return "stou." + hex.EncodeToString(b[:])
}

// copyFromConn copies c into f until EOF, chunk by chunk so that progress
// shows: the portable form of spliceFile. File.ReadFrom still splices
// where the OS can, provided the file is not in O_APPEND mode and c stays
// visible (an io.LimitedReader around it is unwrapped).
func copyFromConn(f *os.File, c *net.TCPConn, progress *atomic.Int64) (int64, error) {
	lr := io.LimitedReader{R: c}
	var total int64
	for {
		lr.N = chunk
		n, err := f.ReadFrom(&lr)
		total += n
		progress.Add(n)
		if err != nil {
			return total, moveErr("splice", err)
		}
		if n < chunk { // the client closed the connection: end of file
			return total, nil
		}
	}
}

// recvASCII copies c into f, turning CRLF into LF (a lone CR stays).
func recvASCII(f *os.File, c net.Conn, progress *atomic.Int64) (int64, error) {
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
