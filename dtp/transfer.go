// Transfers: the goroutine per transfer, its data connection and abort.
package dtp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/protocol"
)

// chunk is how much the portable copy loops move per ReadFrom call, so
// that the progress counter moves between calls.
const chunk = 1 << 20

// transfer is one data transfer in flight. Abort may come from any
// goroutine; it closes whatever the transfer is blocked in.
type transfer struct {
	ctx    context.Context // cancelled by abort: stops an active dial
	cancel context.CancelFunc
	active netip.AddrPort // endpoint taken from the session: active address ...
	ln     *listener      // ... or passive listener; set before the goroutine starts, cleared under mu
	bytes  atomic.Int64   // moved so far, for EvTransferStart.Progress
	held   protocol.Event // an EvTransferStart posted just before EvTransferDone (sendPlain); transfer goroutine only
	client netip.Addr     // whose transfer slot and descriptors it holds (release)
	fds    int            // how many descriptors
	began  time.Time      // when data began to move (startEvent); transfer goroutine only
	name   string         // STOU: the name it chose; transfer goroutine only
	lim    *limiter       // its bandwidth limits (ratelimit.go); nil for listings; transfer goroutine only
	// sending: a blocking sendfile call may be waiting on conn (lane.go);
	// abort wakes it and leaves the close to the transfer's goroutine.
	// stopping: abort has begun; no blocking call starts after it.
	sending, stopping atomic.Bool

	mu       sync.Mutex
	conn     *net.TCPConn // the data connection once open
	aborted  bool         // abort came before the data finished moving
	finished bool         // the data has moved; abort is too late
}

// abort stops the transfer: the dial is cancelled, the listener and data
// connection closed. The transfer's goroutine notices the flag.
func (t *transfer) abort() {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return
	}
	t.aborted = true
	c, ln := t.conn, t.ln
	t.ln = nil
	t.mu.Unlock()
	t.cancel()
	if ln != nil {
		ln.Close()
	}
	if c != nil {
		// Either this sees sending, or the download sees stopping
		// before it blocks (laneSend).
		t.stopping.Store(true)
		if t.sending.Load() {
			wakeSend(c) // the call returns; runTransfer closes c
		} else {
			c.Close()
		}
	}
}

// takeListener removes the passive listener from the transfer; nil when
// there was none or abort has closed it.
func (t *transfer) takeListener() *listener {
	t.mu.Lock()
	defer t.mu.Unlock()
	ln := t.ln
	t.ln = nil
	return ln
}

// setConn records the data connection so abort can close it; when abort
// came first it closes c and reports false.
func (t *transfer) setConn(c *net.TCPConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.aborted {
		c.Close()
		return false
	}
	t.conn = c
	return true
}

// finish marks the data as moved and reports whether abort came first.
func (t *transfer) finish() (aborted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished = true
	return t.aborted
}

// startTransfer takes a transfer slot and the session's pending endpoint,
// then runs the transfer on its own goroutine. It does not block.
func (s *Server) startTransfer(sess *Session, r protocol.ReqTransfer, post func(protocol.Event)) {
	client := sess.info.Remote.Addr()
	fds := descriptors(r.Kind)
	if !s.xfers.Take(client) {
		s.refuseTransfer(sess, protocol.ErrBusy, post)
		return
	}
	if !s.fds.Take(fair.Transfer, client, fds) {
		s.xfers.Give(client)
		s.refuseTransfer(sess, fmt.Errorf("dtp: transfer: out of descriptors: %w", protocol.ErrBusy), post)
		return
	}
	t := &transfer{client: client, fds: fds}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	sess.mu.Lock()
	var err error
	switch {
	case sess.closed:
		err = errSessionClosed
	case sess.xfer != nil:
		err = fmt.Errorf("dtp: a transfer is already in flight: %w", protocol.ErrBusy)
	}
	if err != nil {
		sess.mu.Unlock()
		t.cancel()
		s.release(t)
		post(protocol.EvTransferDone{Err: err})
		return
	}
	id := sess.id
	if id != nil {
		id.from.hold() // released when the transfer ends; sess.id holds one
	}
	t.ln, t.active = sess.ln, sess.active
	sess.ln, sess.active = nil, netip.AddrPort{}
	sess.xfer = t
	sess.mu.Unlock()
	s.runner.run(func() { s.runTransfer(sess, t, id, r, post) })
}

// release gives back t's transfer slot and descriptors.
func (s *Server) release(t *transfer) {
	s.fds.Give(t.client, t.fds)
	s.xfers.Give(t.client)
}

// refuseTransfer answers a transfer that could not start. Its endpoint is
// used up all the same, as the protocol session counts it: a passive
// listener goes back to the pool, so a refused client holds no port.
func (s *Server) refuseTransfer(sess *Session, err error, post func(protocol.Event)) {
	sess.mu.Lock()
	ln, _ := sess.takeEndpoint()
	sess.mu.Unlock()
	s.lns.put(ln)
	post(protocol.EvTransferDone{Err: err})
}

// descriptors is what a transfer of kind k may hold open at once: the data
// connection and the file or directory; an upload also the pipe that
// splice moves its data through and its directory, opened to sync it.
func descriptors(k protocol.XferKind) int {
	switch k {
	case protocol.XferStor, protocol.XferAppe, protocol.XferStou:
		return 5
	}
	return 2
}

// runTransfer does the transfer, releases everything it held and posts
// EvTransferDone last.
func (s *Server) runTransfer(sess *Session, t *transfer, id *identity, r protocol.ReqTransfer, post func(protocol.Event)) {
	var n int64
	t.lim = s.newLimiter(sess, t, id, r.Kind)
	err := mustProtect(id, r)
	if err == nil {
		switch r.Kind {
		case protocol.XferRetr:
			n, err = s.retr(sess, t, id, r, post)
		case protocol.XferStor, protocol.XferAppe, protocol.XferStou:
			s.statc.changed() // the file changes from its opening on
			n, err = s.store(sess, t, id, r, post)
			s.statc.changed()
		case protocol.XferList, protocol.XferNlst, protocol.XferMlsd:
			n, err = s.list(sess, t, id, r, post)
		default:
			err = fmt.Errorf("dtp: unknown transfer kind %d", r.Kind)
		}
	}
	aborted := t.finish()
	t.cancel()
	t.lim.close()
	s.lns.recycle(t.takeListener()) // never accepted on
	if t.conn != nil {
		t.conn.Close()
	}
	if aborted {
		err = fmt.Errorf("dtp: %w", protocol.ErrAborted)
	}
	sess.mu.Lock()
	if sess.xfer == t {
		sess.xfer = nil
	}
	sess.mu.Unlock()
	s.release(t)
	releaseIdentity(id)
	if a := s.cfg.Audit; a != nil {
		a.Transfer(t.record(sess, id, r, n, err))
	}
	if t.held != nil {
		post(t.held)
	}
	post(protocol.EvTransferDone{Bytes: n, Err: err})
}

// record is the audit record of t, which ran r for id and moved n bytes.
func (t *transfer) record(sess *Session, id *identity, r protocol.ReqTransfer, n int64, err error) TransferRecord {
	rec := TransferRecord{
		Client: sess.info.Remote, Kind: r.Kind, Path: r.Path, ASCII: r.ASCII, TLS: r.Protect,
		Offset: r.Offset, Start: t.began, Bytes: n, Started: !t.began.IsZero(), Err: err,
	}
	if rec.Started {
		rec.Duration = time.Since(t.began)
	}
	if id != nil {
		rec.User, rec.Anonymous = id.user, id.anon
	}
	if r.Kind == protocol.XferStou && t.name != "" {
		rec.Path = joinPath(r.Path, t.name)
	}
	return rec
}

// joinPath joins an FTP directory path and a name.
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// dataConn opens the data connection: accepts on the passive listener or
// dials the active address. A protected transfer (protect) needs a
// certificate; its TLS handshake runs later, in secure.
func (s *Server) dataConn(sess *Session, t *transfer, protect bool) (*net.TCPConn, error) {
	if protect && s.cfg.TLS == nil {
		return nil, errNoTLS
	}
	var c *net.TCPConn
	var err error
	t.mu.Lock()
	ln := t.ln
	t.mu.Unlock()
	switch {
	case ln != nil:
		c, err = s.accept(sess, t, ln)
	case t.active.IsValid():
		c, err = s.dial(sess, t)
	default:
		return nil, fmt.Errorf("dtp: %w", protocol.ErrNoEndpoint)
	}
	if err != nil {
		return nil, err
	}
	if !t.setConn(c) {
		return nil, fmt.Errorf("dtp: %w", protocol.ErrAborted)
	}
	return c, nil
}

// start posts EvTransferStart: the data connection is open, data follows.
func (t *transfer) start(post func(protocol.Event), size int64, name string) {
	post(t.startEvent(size, name))
}

// startEvent is the transfer's EvTransferStart.
func (t *transfer) startEvent(size int64, name string) protocol.EvTransferStart {
	t.began, t.name = time.Now(), name
	return protocol.EvTransferStart{Size: size, Name: name, Progress: t.bytes.Load}
}

// connErr wraps an error of the data connection.
func connErr(op string, err error) error {
	return fmt.Errorf("dtp: %w: %s: %w", protocol.ErrDataConn, op, err)
}

// moveErr sorts an error of a zero-copy call, which may come from either
// side: the file's errnos are storage errors, the rest the connection's.
func moveErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if isStorageErrno(err) {
		return storageErr(err)
	}
	return connErr(op, err)
}
