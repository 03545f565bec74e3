// Failed, refused and aborted protected data connections free their socket and goroutine at once.
package dtp

import (
	"crypto/tls"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// TestProtectedFailuresFreeEverything runs rounds of every way a
// protected data connection can fail: garbage instead of a ClientHello, a
// stalled handshake (the timeout), a refused reuse, an ABOR during the
// handshake, an ABOR mid-download and a client that vanishes mid-upload;
// each followed by a good transfer. Afterwards the descriptors and
// goroutines are back where they started. The stalled handshakes run on a
// server of their own with a short handshake timeout, so that a slow
// machine cannot make the good transfers time out.
func TestProtectedFailuresFreeEverything(t *testing.T) {
	const rounds = 20
	e, f := newTLSEnv(t, nil)
	short, _ := newTLSEnv(t, func(c *Config) { c.TLSHandshakeTimeout = 200 * time.Millisecond })
	short.write("small", nil)
	e.write("small", randomBytes(10_000, 41))
	e.write("big", randomBytes(16<<20, 42))
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	stranger := f.client(tls.VersionTLS13, nil)
	retr := func(p string) protocol.ReqTransfer {
		return protocol.ReqTransfer{Kind: protocol.XferRetr, Path: p, Protect: true}
	}

	fail := map[string]func() error{
		"garbage": func() error {
			raw := dialFrom(t, "127.0.0.1", e.pasv())
			raw.SetDeadline(time.Now().Add(wait))
			e.do(retr("small"))
			raw.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
			err := startThenDone(t, e.ev).Err
			raw.Close()
			return err
		},
		"stall": func() error {
			raw := dialFrom(t, "127.0.0.1", short.pasv())
			short.do(retr("small"))
			err := startThenDone(t, short.ev).Err
			raw.Close()
			return err
		},
		"reuse": func() error {
			err, _ := e.protectedRefused(retr("small"), stranger)
			return err
		},
		"abort handshake": func() error {
			raw := dialFrom(t, "127.0.0.1", e.pasv())
			e.do(retr("small"))
			e.do(protocol.ReqAbort{})
			err := doneAfterAnyStart(t, e.ev).Err
			raw.Close()
			return err
		},
		"abort download": func() error {
			c, raw := e.protectedStart(retr("big"), ccfg)
			if _, err := io.ReadFull(c, make([]byte, 64<<10)); err != nil {
				t.Fatal(err)
			}
			expect[protocol.EvTransferStart](t, e.ev)
			e.do(protocol.ReqAbort{})
			err := expect[protocol.EvTransferDone](t, e.ev).Err
			raw.Close()
			return err
		},
		"vanished upload": func() error {
			c, raw := e.protectedStart(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "up"}, ccfg)
			if _, err := c.Write(randomBytes(300_000, 43)); err != nil {
				t.Fatalf("upload: %v; server: %#v", err, e.ev.next(t))
			}
			waitProgress(t, expect[protocol.EvTransferStart](t, e.ev), 300_000)
			raw.SetLinger(0)
			raw.Close()
			return expect[protocol.EvTransferDone](t, e.ev).Err
		},
	}
	want := map[string]error{
		"garbage": protocol.ErrTLSHandshake, "stall": protocol.ErrTLSHandshake, "reuse": protocol.ErrTLSReuse,
		"abort handshake": protocol.ErrAborted, "abort download": protocol.ErrAborted, "vanished upload": protocol.ErrDataConn,
	}
	good := func() {
		got, _, _, done := e.protectedDownload(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "small"}, ccfg)
		mustOK(t, done.Err)
		if len(got) != 10_000 {
			t.Fatalf("good transfer: %d bytes", len(got))
		}
	}

	// Warm up: the first rounds make descriptors and goroutines that stay.
	good()
	for _, run := range fail {
		run()
	}
	runtime.GC()
	fds, gs := openFDs(t), runtime.NumGoroutine()

	tried := 0
	for range rounds {
		for name, run := range fail {
			mustErr(t, run(), want[name])
			if n := e.srv.Transfers() + short.srv.Transfers(); n != 0 {
				t.Fatalf("%s: Transfers() = %d after its EvTransferDone", name, n)
			}
			good()
			tried++
		}
	}
	deadline := time.Now().Add(wait)
	for openFDs(t) > fds || runtime.NumGoroutine() > gs {
		if time.Now().After(deadline) {
			t.Fatalf("after %d failed protected transfers: %d descriptors (%d before), %d goroutines (%d before)",
				tried, openFDs(t), fds, runtime.NumGoroutine(), gs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	noTempFiles(t, e.dir)
	t.Logf("%d failed protected transfers: descriptors %d → %d, goroutines %d → %d",
		tried, fds, openFDs(t), gs, runtime.NumGoroutine())
}
