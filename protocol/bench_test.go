// Benchmarks of the session's hot paths.
package protocol

import (
	"net/netip"
	"testing"
)

// BenchmarkRETRCycle measures one EPSV + RETR round trip, the commands a
// download benchmark repeats, with every event answered.
func BenchmarkRETRCycle(b *testing.B) {
	cfg := testConfig()
	s := NewSession(&cfg, testConn, scriptStart)
	s.Line([]byte("USER bob"), scriptStart)
	s.Line([]byte("PASS x"), scriptStart)
	s.Event(EvLogin{OK: true, Perms: PermRead}, scriptStart)
	s.Line([]byte("TYPE I"), scriptStart)
	s.TakeOutput()
	epsv, retr := []byte("EPSV"), []byte("RETR dir/file.bin")
	pasv := EvPassive{Addr: netip.MustParseAddrPort("192.0.2.1:40000")}
	start, done := EvTransferStart{Size: 1 << 20}, EvTransferDone{Bytes: 1 << 20}
	b.ReportAllocs()
	for b.Loop() {
		s.Line(epsv, scriptStart)
		s.Event(pasv, scriptStart)
		s.TakeOutput()
		s.Line(retr, scriptStart)
		s.TakeOutput()
		s.Event(start, scriptStart)
		s.Event(done, scriptStart)
		s.TakeOutput()
	}
}

// BenchmarkNOOP measures the cheapest command.
func BenchmarkNOOP(b *testing.B) {
	cfg := testConfig()
	s := NewSession(&cfg, testConn, scriptStart)
	s.TakeOutput()
	noop := []byte("NOOP")
	b.ReportAllocs()
	for b.Loop() {
		s.Line(noop, scriptStart)
		s.TakeOutput()
	}
}
