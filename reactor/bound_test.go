// Tests of Config.Bound: it runs with the listeners bound and before any connection is served.
package reactor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// newBoundServer makes a server on 127.0.0.1:0 with bound as its hook.
func newBoundServer(t *testing.T, bound func(*Server) error) *Server {
	t.Helper()
	acc := dtp.NewAccounts()
	d, err := dtp.New(dtp.DefaultConfig(), acc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); acc.Close() })
	rcfg := DefaultConfig()
	rcfg.Listen = "127.0.0.1:0"
	rcfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	var srv *Server
	rcfg.Bound = func() error { return bound(srv) }
	srv = New(rcfg, protocol.DefaultConfig(), d)
	return srv
}

func TestBoundRunsBeforeAccepting(t *testing.T) {
	var early net.Conn
	srv := newBoundServer(t, func(srv *Server) error {
		select {
		case <-srv.Ready():
			return errors.New("Ready is closed before Bound has run")
		default:
		}
		ls := srv.Listeners()
		if len(ls) != 1 {
			return errors.New("Bound: the listener is not there")
		}
		// The kernel completes the handshake (the backlog), but nothing
		// accepts it yet: no banner comes while Bound runs.
		c, err := net.DialTimeout("tcp", ls[0].Addr.String(), 5*time.Second)
		if err != nil {
			return err
		}
		early = c
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(make([]byte, 64)); n > 0 || !isTimeout(err) {
			return errors.New("a connection was served while Bound ran")
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case <-srv.Ready():
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	defer early.Close()
	// Once Bound returns, the connection made during it is served.
	early.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	n, err := early.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "220") {
		t.Fatalf("after Bound: read %q, %v; want the 220 banner", buf[:n], err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	early.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestBoundErrorEndsServe(t *testing.T) {
	boom := errors.New("drop failed")
	var addr string
	srv := newBoundServer(t, func(srv *Server) error {
		addr = srv.Listeners()[0].Addr.String()
		return boom
	})
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Fatalf("serve: %v, want %v", err, boom)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	select {
	case <-srv.Ready():
		t.Fatal("Ready is closed though Bound failed")
	default:
	}
	// The listener is closed.
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
	// A Shutdown (a signal during set-up) returns rather than waiting for
	// a Ready that never comes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sd := make(chan error, 1)
	go func() { sd <- srv.Shutdown(ctx) }()
	select {
	case err := <-sd:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown hangs after a failed Serve")
	}
}
