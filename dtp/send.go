// RETR: a file to the client, by sendfile in TYPE I and LF→CRLF in TYPE A.
package dtp

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/rftpd/rftpd/protocol"
)

// Zero copy (Linux, sys_linux.go), checked with `strace -f -e
// trace=sendfile,splice` on Go 1.26 and checked again by TestZeroCopy
// whenever strace is installed. RETR in TYPE I is a series of
//
//	sendfile(13, 12, [0] => [3922432], 8388608) = 3922432
//	sendfile(13, 12, [3922432], 4466176) = -1 EAGAIN   (then the netpoller waits)
//
// each asking for the rest of the file as it was when opened, and
// STOR/APPE/STOU in TYPE I are pairs of splice calls, socket → pipe and
// pipe → file, of up to 1 MiB each. An 8 MiB file took 8 sendfile calls
// (3 of them EAGAIN), or 21 splice calls moving 16 MiB. The file's bytes
// never pass through user space.

// bufSize is the size of the pooled buffers of TYPE A conversion.
const bufSize = 64 << 10

// bufs holds *[]byte of bufSize for reading, and twice that for the
// LF→CRLF output, which can double in size.
var (
	bufs   = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
	bufs2x = sync.Pool{New: func() any { b := make([]byte, 2*bufSize); return &b }}
)

// retr sends the file at r.Path from r.Offset. The file is opened before
// the data connection, so a missing file, or an offset past its end
// (protocol.ErrBadOffset; at the end, nothing is sent), is answered
// without one.
func (s *Server) retr(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) (int64, error) {
	if err := id.allow(protocol.PermRead); err != nil {
		return 0, err
	}
	if err := s.hook("open"); err != nil {
		return 0, err
	}
	rel := relPath(r.Path)
	if err := checkRel(rel); err != nil {
		return 0, err
	}
	src, err := openSource(id, rel)
	if err != nil {
		return 0, storageErr(err)
	}
	defer src.close()
	if src.mode.IsDir() {
		return 0, fmt.Errorf("dtp: %w", protocol.ErrIsDir)
	}
	if !src.mode.IsRegular() {
		return 0, errNotRegular // opened without blocking, never read
	}
	// REST counts transfer bytes (RFC 3659 §5.3): in TYPE A, where a bare
	// LF is sent as CRLF, its stored offset is found by reading the file.
	offset, cr := r.Offset, false
	if r.ASCII && r.Offset > 0 {
		if offset, cr, err = asciiOffset(src.file(), src.size, r.Offset); err != nil {
			return 0, err
		}
	} else if r.Offset > src.size {
		return 0, fmt.Errorf("dtp: REST %d on a file of %d bytes: %w", r.Offset, src.size, protocol.ErrBadOffset)
	}
	c, err := s.dataConn(sess, t, r.Protect)
	if err != nil {
		return 0, err
	}
	// What is sent is the file as long as it was when opened, which is
	// the size the 150 reply announces: bytes appended since are not sent.
	size := src.size - offset
	if !r.ASCII && !r.Protect && r.Deflate == 0 {
		return s.sendPlain(t, c, src, r.Offset, size, s.cfg.DataUnsent, post)
	}
	limitUnsent(c, s.cfg.DataUnsent)
	announce := size
	if r.ASCII {
		announce = -1 // the converted size is not known in advance
	}
	t.start(post, announce, "")
	tc, err := s.secure(sess, id, c, r.Protect)
	if err != nil {
		return 0, err
	}
	f := src.file()
	if r.ASCII || r.Deflate > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return 0, storageErr(err)
		}
		out, finish := deflated(t.dataOut(c, tc), r.Deflate)
		var n int64
		if r.ASCII {
			n, err = sendASCII(out, io.LimitReader(f, size), &t.bytes, cr)
		} else {
			n, err = sendCopy(out, io.LimitReader(f, size), &t.bytes)
		}
		return n, endDownload(tc, endDeflate(finish, err))
	}
	n, err := sendTLS(tc, f, r.Offset, size, &t.bytes)
	return n, endDownload(tc, err)
}

// sendPlain sends a download of size bytes from off in TYPE I without
// TLS. Its EvTransferStart waits for the first sendfile call: when that
// call sent the whole file, the event is held and posted just before
// EvTransferDone, so that the reactor writes 150 and 226 together (one
// write on the control connection instead of two, for every small file).
// The client has all the data by then; clients read the 150 before the
// data connection either way.
func (s *Server) sendPlain(t *transfer, c *net.TCPConn, src *source, off, size int64, unsent int, post func(protocol.Event)) (int64, error) {
	started := false
	n, err := sendFile(c, src, off, size, unsent, &t.bytes, func(sent int64) {
		started = true
		if sent >= size {
			t.held = t.startEvent(size, "")
			return
		}
		t.start(post, size, "")
	}, t.lim, &laneUse{lanes: s.lanes, busy: &t.sending, stop: &t.stopping})
	if !started {
		t.start(post, size, "")
	}
	return n, err
}

// copyToConn copies up to limit bytes of f from its current offset to c,
// chunk by chunk so that progress shows: the portable form of sendFile.
// TCPConn.ReadFrom still uses sendfile where the OS has it, as long as it
// sees the *os.File: an io.LimitedReader around it is unwrapped, other
// wrappers would fall back to a user-space copy. Under a bandwidth limit
// (lim) the chunks are its slices, each paid for.
func copyToConn(c *net.TCPConn, f *os.File, limit int64, progress *atomic.Int64, lim *limiter) (int64, error) {
	lr := io.LimitedReader{R: f}
	var total int64
	for total < limit {
		want := min(chunk, limit-total)
		if paced := lim.slice(chunk); paced > 0 {
			want = min(want, int64(paced))
		}
		lr.N = want
		n, err := c.ReadFrom(&lr)
		total += n
		progress.Add(n)
		if err != nil {
			return total, moveErr("sendfile", err)
		}
		if err := lim.pay(int(n)); err != nil {
			return total, connErr("sendfile", err)
		}
		if n < want { // end of file
			break
		}
	}
	return total, nil
}

// sendASCII copies f to c, turning each LF not already preceded by CR into
// CRLF; cr: the byte before f's first was a CR. It returns the bytes
// written to c.
func sendASCII(c io.Writer, f io.Reader, progress *atomic.Int64, cr bool) (int64, error) {
	in := bufs.Get().(*[]byte)
	out := bufs2x.Get().(*[]byte)
	defer bufs.Put(in)
	defer bufs2x.Put(out)
	var total int64
	for {
		n, rerr := f.Read(*in)
		if n > 0 {
			var o []byte
			o, cr = toCRLF((*out)[:0], (*in)[:n], cr)
			w, werr := c.Write(o)
			total += int64(w)
			progress.Add(int64(w))
			if werr != nil {
				return total, connErr("write", werr)
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, storageErr(rerr)
		}
	}
}

// toCRLF appends src to dst with every bare LF turned into CRLF. cr says
// whether the byte before src was a CR; the returned flag says the same
// of src's last byte.
func toCRLF(dst, src []byte, cr bool) ([]byte, bool) {
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			dst = append(dst, src...)
			return dst, src[len(src)-1] == '\r'
		}
		dst = append(dst, src[:i]...)
		if (i > 0 && src[i-1] != '\r') || (i == 0 && !cr) {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		src = src[i+1:]
		cr = false
	}
	return dst, cr
}

// sendCopy copies f to w (MODE Z's compressor) and returns the bytes
// written to w.
func sendCopy(w io.Writer, f io.Reader, progress *atomic.Int64) (int64, error) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	var total int64
	for {
		n, rerr := f.Read(*buf)
		if n > 0 {
			k, werr := w.Write((*buf)[:n])
			total += int64(k)
			progress.Add(int64(k))
			if werr != nil {
				return total, connErr("write", werr)
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, storageErr(rerr)
		}
	}
}

// endDeflate ends a download's MODE Z stream (finish, from deflated):
// its last block and checksum go out when the data all went (err nil).
func endDeflate(finish func(ok bool) error, err error) error {
	if ferr := finish(err == nil); err == nil && ferr != nil {
		return connErr("write", ferr)
	}
	return err
}
