// A runnable example of driving a Session, as the reactor does.
package protocol_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// Example shows one anonymous login and a directory change, with the exact
// bytes a client would see and the requests the DTP would run.
func Example() {
	cfg := protocol.DefaultConfig()
	cfg.AnonymousEnabled = true
	now := time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)
	s := protocol.NewSession(&cfg, protocol.ConnInfo{
		Local:  netip.MustParseAddrPort("192.0.2.1:21"),
		Remote: netip.MustParseAddrPort("192.0.2.10:50000"),
	}, now)
	show := func() {
		out := s.TakeOutput()
		fmt.Printf("%q %v close=%v\n", out.Reply, out.Requests, out.Close)
	}
	show()
	s.Line([]byte("USER anonymous"), now)
	show()
	s.Line([]byte("PASS me@example.com"), now)
	s.Line([]byte("CWD pub"), now) // queued behind the password check
	show()
	s.Event(protocol.EvLogin{OK: true, Anonymous: true, Perms: protocol.PermRead}, now)
	show()
	s.Event(protocol.EvFile{Op: protocol.OpStat, Info: protocol.FileInfo{Name: "pub", Mode: 1 << 31}}, now)
	show()
	fmt.Println("next tick:", s.Deadline().Sub(now))
	// Output:
	// "220 rftpd ready.\r\n" [] close=false
	// "331 Anonymous login ok, send your e-mail address as password.\r\n" [] close=false
	// "" [{anonymous me@example.com false}] close=false
	// "230 Login successful.\r\n" [{1 /pub  ---------- 0001-01-01 00:00:00 +0000 UTC false}] close=false
	// "250 Directory successfully changed.\r\n" [] close=false
	// next tick: 5m0s
}
