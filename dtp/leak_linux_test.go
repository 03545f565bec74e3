// Aborted and vanished transfers free their data connection, file, pipe and goroutine at once.
package dtp

import (
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// openFDs counts the descriptors this process holds.
func openFDs(t *testing.T) int {
	t.Helper()
	des, err := os.ReadDir("/proc/self/fd")
	mustOK(t, err)
	return len(des)
}

// TestAbortedTransfersFreeEverything runs 200 aborted and 200 vanished
// transfers in each direction: ABOR mid-transfer, a reset data
// connection, and a control connection that goes away (CloseSession).
// After each one no transfer is counted; at the end the descriptors and
// goroutines are back where they started, no temporary file is left and
// the file the uploads aimed at is as it was.
func TestAbortedTransfersFreeEverything(t *testing.T) {
	const rounds = 200
	e := newEnv(t, nil)
	e.write("big", randomBytes(32<<20, 61))
	old := randomBytes(10_000, 62)
	e.write("keep.bin", old)
	payload := randomBytes(256<<10, 63)

	// A session of its own for the rounds whose control connection vanishes.
	fresh := func() *env {
		o := &env{t: t, dir: e.dir, srv: e.srv, acc: e.acc, ev: newCollector()}
		o.sess = e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
		o.do(protocol.ReqLogin{User: "u", Pass: "secret"})
		if ev := expect[protocol.EvLogin](t, o.ev); !ev.OK {
			t.Fatalf("login: %#v", ev)
		}
		return o
	}
	// end stops the transfer running in s the way named by how and
	// returns its EvTransferDone.
	end := func(s *env, how string) protocol.EvTransferDone {
		switch how {
		case "abort":
			s.do(protocol.ReqAbort{})
		case "session":
			e.srv.CloseSession(s.sess)
		}
		return expect[protocol.EvTransferDone](t, s.ev)
	}
	download := func(how string) error {
		s := e
		if how == "session" {
			s = fresh()
		}
		c := dialFrom(t, "127.0.0.1", s.pasv())
		c.SetDeadline(time.Now().Add(wait))
		s.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big"})
		expect[protocol.EvTransferStart](t, s.ev)
		if _, err := io.ReadFull(c, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		if how == "reset" {
			c.SetLinger(0)
			c.Close()
		}
		done := end(s, how)
		c.Close()
		return done.Err
	}
	upload := func(how string) error {
		s := e
		if how == "session" {
			s = fresh()
		}
		c, st := s.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"})
		if _, err := c.Write(payload); err != nil {
			t.Fatal(err)
		}
		waitProgress(t, st, int64(len(payload)))
		if how == "reset" {
			c.SetLinger(0)
			c.Close()
		}
		done := end(s, how)
		c.Close()
		return done.Err
	}

	// Warm up: the first transfers make descriptors that stay (the
	// netpoller's), and goroutines of the runtime's own.
	_, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "keep.bin"})
	mustOK(t, done.Err)
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "warm.bin"}, payload)
	mustOK(t, done.Err)
	download("abort")
	upload("abort")
	runtime.GC()
	fds, gs := openFDs(t), runtime.NumGoroutine()

	tried := 0
	for _, dir := range []struct {
		name string
		run  func(how string) error
	}{{"download", download}, {"upload", upload}} {
		for i := range 2 * rounds {
			how := "abort" // rounds aborted ...
			if i%2 == 1 {  // ... and rounds vanished: data connection reset or control connection gone
				how = []string{"reset", "session"}[i/2%2]
			}
			err := dir.run(how)
			switch how {
			case "abort", "session":
				mustErr(t, err, protocol.ErrAborted)
			case "reset":
				mustErr(t, err, protocol.ErrDataConn)
			}
			if n := e.srv.Transfers(); n != 0 {
				t.Fatalf("%s %s %d: Transfers() = %d after its EvTransferDone", dir.name, how, i, n)
			}
			tried++
		}
	}

	deadline := time.Now().Add(wait)
	for openFDs(t) > fds || runtime.NumGoroutine() > gs {
		if time.Now().After(deadline) {
			t.Fatalf("after %d aborted or vanished transfers: %d descriptors (%d before), %d goroutines (%d before)",
				tried, openFDs(t), fds, runtime.NumGoroutine(), gs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	noTempFiles(t, e.dir)
	mustContent(t, e, "keep.bin", old)
	t.Logf("%d aborted or vanished transfers (%d per direction): descriptors %d → %d, goroutines %d → %d, transfers %d",
		tried, 2*rounds, fds, openFDs(t), gs, runtime.NumGoroutine(), e.srv.Transfers())
}
