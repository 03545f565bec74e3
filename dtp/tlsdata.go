// Protected data connections (PROT P): the handshake of a transfer, and the copy loops through crypto/tls.
package dtp

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// Bytes cannot go from a file to a socket under TLS without passing
// through user space, so protected transfers read and write in large
// pooled buffers: tlsBufSize of file data per read or write system call,
// handed to crypto/tls tlsStep at a time so that the progress counter
// (and with it the stall timer) moves at least every tlsStep bytes. TYPE
// A conversion keeps its own loops (sendASCII, recvASCII) over the
// tls.Conn.
//
// crypto/tls writes every record (16 KiB at most) with a system call of
// its own. On loopback, where the sender's CPU also runs the receiver's
// TCP stack, a download then cost several times the cipher's own work, so
// downloads batch: the records of one tlsStep go to the socket in one
// write (see tlsTransport): a 1 GiB download over TLS 1.3 took 2.3 s of
// server CPU with a write per record, 0.7 s batched.
const (
	tlsBufSize = 256 << 10
	tlsStep    = 256 << 10
)

var tlsBufs = sync.Pool{New: func() any { b := make([]byte, tlsBufSize); return &b }}

// tlsBatchSize holds the records of one tlsStep: sixteen full records and
// their headers, nonces and tags, with room to spare.
const tlsBatchSize = tlsStep + 2048

var tlsBatches = sync.Pool{New: func() any { b := make([]byte, 0, tlsBatchSize); return &b }}

// tlsTransport is the data connection under a tls.Conn.
//
// It ignores the write deadline crypto/tls sets by itself, the 5 seconds
// it gives close_notify: at the end of a download the socket's send
// buffer may hold megabytes that a slow client is still reading, and
// close_notify has to wait for room behind them. That wait is bounded like
// the rest of the transfer, by ABOR, the stall timer and the session's
// end, which all close the socket.
//
// Between batch and flush it holds back what crypto/tls writes, to write
// it in one system call.
//
// Under a bandwidth limit (lim) its reads and writes are paced, so the
// limit counts the bytes on the wire, records and all.
type tlsTransport struct {
	*net.TCPConn
	held *[]byte  // records held back; nil: writes go straight through
	lim  *limiter // the transfer's bandwidth limits; nil: none
}

func (*tlsTransport) SetWriteDeadline(time.Time) error { return nil }

func (t *tlsTransport) Read(p []byte) (int, error) {
	if t.lim == nil {
		return t.TCPConn.Read(p)
	}
	return limitedConn{Conn: t.TCPConn, lim: t.lim}.Read(p)
}

// send writes to the socket, paced when a limit applies.
func (t *tlsTransport) send(p []byte) (int, error) {
	if t.lim == nil {
		return t.TCPConn.Write(p)
	}
	return limitedConn{Conn: t.TCPConn, lim: t.lim}.Write(p)
}

func (t *tlsTransport) Write(p []byte) (int, error) {
	if t.held == nil {
		return t.send(p)
	}
	*t.held = append(*t.held, p...)
	return len(p), nil
}

// batch starts holding back writes.
func (t *tlsTransport) batch() {
	if t.held == nil {
		t.held = tlsBatches.Get().(*[]byte)
	}
}

// flush writes what was held back and stops holding back.
func (t *tlsTransport) flush() error {
	h := t.held
	if h == nil {
		return nil
	}
	t.held = nil
	_, err := t.send(*h)
	if cap(*h) <= tlsBatchSize {
		*h = (*h)[:0]
		tlsBatches.Put(h)
	}
	return err
}

// secure runs the TLS handshake of a protected transfer (protect) on its
// open data connection c and returns the tls.Conn; it returns nil for an
// unprotected one. The handshake is HandshakeData with the control
// connection's tag, the login's reuse requirement and a deadline of
// Config.TLSHandshakeTimeout from now.
//
// It runs after EvTransferStart: clients (Python's ftplib, curl) begin
// the data connection's handshake only once the 150 reply has come, so
// the reply has to go first. A handshake that fails or is refused
// (protocol.ErrTLSHandshake, protocol.ErrTLSReuse) ends the transfer
// before any data moves; runTransfer closes c.
func (s *Server) secure(sess *Session, id *identity, c *net.TCPConn, protect bool) (*tls.Conn, error) {
	if !protect {
		return nil, nil
	}
	sess.mu.Lock()
	tag := sess.tag
	var lim *limiter // the transfer in flight's: c is its data connection
	if sess.xfer != nil {
		lim = sess.xfer.lim
	}
	sess.mu.Unlock()
	reuse := s.cfg.TLSReuse
	if id != nil {
		reuse = id.tlsReuse
	}
	tc, err := s.cfg.TLS.HandshakeData(&tlsTransport{TCPConn: c, lim: lim}, tag, reuse, time.Now().Add(s.cfg.TLSHandshakeTimeout))
	if err != nil {
		s.dataTLSFailed.Add(1)
	} else {
		s.dataTLSOK.Add(1)
	}
	return tc, err
}

// dataOut is the connection data goes through: the TLS one when the
// transfer is protected.
func dataOut(c *net.TCPConn, tc *tls.Conn) net.Conn {
	if tc != nil {
		return tc
	}
	return c
}

// sendTLS sends size bytes of f from off over tc, fewer if the file ends
// sooner.
func sendTLS(tc *tls.Conn, f *os.File, off, size int64, progress *atomic.Int64) (int64, error) {
	tr, _ := tc.NetConn().(*tlsTransport)
	buf := tlsBufs.Get().(*[]byte)
	defer tlsBufs.Put(buf)
	end := off + size
	var total int64
	for off < end {
		n, rerr := f.ReadAt((*buf)[:min(int64(len(*buf)), end-off)], off)
		off += int64(n)
		for p := (*buf)[:n]; len(p) > 0; {
			if tr != nil {
				tr.batch()
			}
			w, werr := tc.Write(p[:min(len(p), tlsStep)])
			if tr != nil {
				if ferr := tr.flush(); werr == nil && ferr != nil {
					w, werr = 0, ferr
				}
			}
			total += int64(w)
			progress.Add(int64(w))
			if werr != nil {
				return total, connErr("write", werr)
			}
			p = p[w:]
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, storageErr(rerr)
		}
	}
	return total, nil
}

// recvStream receives tc into f at f's offset until the end of the data.
// tc is a protected data connection or MODE Z's decompressor. For TLS the
// end is the client's close_notify, or its TCP FIN at a record boundary,
// which crypto/tls both reports as io.EOF (some clients send no
// close_notify); for MODE Z it is the end of the zlib stream.
// A connection that ends inside a record is an error (io.ErrUnexpectedEOF).
// Data is written to f a full buffer at a time; check, when set, runs
// before each write. What arrived before a connection error is written
// before the error is returned, as splice would have.
func recvStream(f *os.File, tc io.Reader, progress *atomic.Int64, check func() error) (int64, error) {
	buf := tlsBufs.Get().(*[]byte)
	defer tlsBufs.Put(buf)
	var total int64
	for {
		n := 0
		var rerr error
		for n < len(*buf) && rerr == nil {
			var k int
			k, rerr = tc.Read((*buf)[n:])
			n += k
			total += int64(k)
			progress.Add(int64(k))
		}
		if n > 0 {
			if check != nil {
				if err := check(); err != nil {
					return total, storageErr(err)
				}
			}
			if _, werr := f.Write((*buf)[:n]); werr != nil {
				return total, storageErr(werr)
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, connErr("read", rerr)
		}
	}
}

// endDownload ends a protected download, listing or file, whose data has
// all been written (err == nil) with close_notify, so that the client
// can tell the end from a cut connection. After a failure no
// close_notify is sent: the client sees the connection cut. The socket
// itself is closed by the transfer's end.
func endDownload(tc *tls.Conn, err error) error {
	if tc == nil || err != nil {
		return err
	}
	if cerr := tc.CloseWrite(); cerr != nil {
		return connErr("close_notify", cerr)
	}
	return nil
}

// endUpload answers the end of a protected upload's data with
// close_notify, for clients that wait for it before they close. The
// client may have gone already: a failure is no failure of the upload,
// and the write gets a few seconds at most.
func endUpload(c *net.TCPConn, tc *tls.Conn) {
	if tc == nil {
		return
	}
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	tc.CloseWrite()
}

// mustProtect refuses a transfer without PROT P for a login that must
// protect its data connections. The session refuses these itself (521);
// this is defence in depth.
func mustProtect(id *identity, r protocol.ReqTransfer) error {
	if id != nil && id.tlsData && !r.Protect {
		return fmt.Errorf("dtp: this login must protect its data connections (PROT P): %w", protocol.ErrPermission)
	}
	return nil
}
