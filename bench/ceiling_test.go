// Tests of the ceiling server: small and large files, and one passive listener per session.
package bench

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	dir := t.TempDir()
	sizes := map[string]int{"small": 4096, "edge": smallFile, "large": 1 << 20}
	for name, n := range sizes {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go (&Ceiling{Root: root}).Serve(ln)

	ctx := context.Background()
	c, err := Dial(ctx, ln.Addr().String(), nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("anonymous", "x"); err != nil {
		t.Fatal(err)
	}
	epsv := func() int {
		t.Helper()
		msg, err := c.Expect("EPSV", 229)
		if err != nil {
			t.Fatal(err)
		}
		port, err := parseEPSV(msg)
		if err != nil {
			t.Fatal(err)
		}
		return port
	}
	port := epsv()
	sink := NewSink(false)
	defer sink.Close()
	for _, name := range []string{"small", "edge", "large", "small"} {
		n, err := c.Retr(ctx, EPSV, "/"+name, sink)
		if err != nil || n != int64(sizes[name]) {
			t.Fatalf("RETR %s: %d bytes, %v; want %d", name, n, err, sizes[name])
		}
	}
	if p := epsv(); p != port {
		t.Errorf("EPSV after four transfers gave port %d, the first gave %d: want one listener per session", p, port)
	}
	var re *ReplyError
	if _, err := c.Retr(ctx, EPSV, "/missing", sink); !errors.As(err, &re) || re.Code != 550 {
		t.Errorf("RETR of a missing file: %v, want a 550 reply", err)
	}
	if code, _, err := c.Cmd("NOOP"); err != nil || code != 200 {
		t.Errorf("NOOP after the transfers: %d, %v", code, err)
	}
}
