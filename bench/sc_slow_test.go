// Tests of slow-get without a server: its notes, its figure per transfer, and its pacing.
package bench

import (
	"net"
	"strings"
	"testing"
	"time"
)

// slowFixture is a slow-get result as a run against a single-process
// server might leave it.
func slowFixture() *SlowResult {
	return &SlowResult{
		Requested: 1000, Running: 1000, Sources: 16, File: "/slow/100MiB.bin", Rate: 64 << 10, RcvBuf: 64 << 10,
		StartSeconds: 2.34,
		Before:       Memory{RSS: 12 << 20, PSS: 11 << 20, Procs: 1},
		During:       Memory{RSS: 32 << 20, PSS: 31 << 20, Procs: 1},
		Sockets:      SockMem{Sockets: 2064, Mem: 200 << 20, Queued: 190 << 20, Unsent: 180 << 20, Sending: 1000},
		SocketsAfter: SockMem{Sockets: 64},
		DrainSeconds: 0.1,
		SysTCPBefore: 4 << 20, SysTCP: 304 << 20, SysTCPPressure: 1500 << 20, SysTCPLimit: 2200 << 20,
		AbortReplies: map[int]int{426: 998, 226: 2},
		Healthy:      true,
	}
}

func TestSlowNotes(t *testing.T) {
	got := strings.Join(slowNotes(slowFixture(), 62.5*(1<<20), 10*time.Second), "\n")
	want := `1000 of 1000 transfers running over 16 source addresses, each reading /slow/100MiB.bin at 64.0 KiB/s (SO_RCVBUF 64.0 KiB); all started in 2.3s; rate is transfers started per second, latency from EPSV to the first byte
delivered 62.5 MiB/s in all over 10.0s: 64.0 KiB/s per running transfer
server memory (1 process): RSS 12.0 MiB before, 32.0 MiB during; PSS 11.0 MiB before, 31.0 MiB during: 20.5 KiB RSS and 20.5 KiB PSS per transfer, its session included
server TCP sockets: 2064, 200 MiB of kernel memory (queues and reserves): 205 KiB per transfer; send queues 195 KiB per transfer, of which 184 KiB not yet sent
system TCP memory (/proc/net/sockstat: both ends of every connection, every process; exact to 1 MiB per CPU): 4.00 MiB before, 304 MiB during: 307 KiB per transfer
after closing the data connections: replies 2 × 226, 998 × 426; 0.1s later the server's 64 sockets held 0 B in send queues and 0 B of kernel memory; a new session answered NOOP`
	if got != want {
		t.Errorf("notes:\n%s\nwant:\n%s", got, want)
	}

	// Under tcp_mem's pressure, then at its limit.
	s := slowFixture()
	s.Pressure = TCPPressure{Entered: 2, Spent: 33176 * time.Millisecond}
	if n := slowNotes(s, 1, time.Second)[5]; n != "the kernel was under TCP memory pressure for 33.2s of the run (entered 2 times; net.ipv4.tcp_mem's pressure threshold is 1.46 GiB, its limit 2.15 GiB): it held every socket's buffers down, so the figures are below the server's own need" {
		t.Errorf("pressure note %q", n)
	}
	s.Pressure.Entered = 1
	if n := slowNotes(s, 1, time.Second)[5]; !strings.Contains(n, "(entered once;") {
		t.Errorf("pressure note %q", n)
	}
	s.SysTCP = 2200 << 20
	if n := slowNotes(s, 1, time.Second)[5]; n != "the system's TCP memory reached net.ipv4.tcp_mem's hard limit (2.15 GiB): the kernel refused sockets more buffers, so the figures are the limit's, not the server's own need" {
		t.Errorf("limit note %q", n)
	}

	// A forking server, the kernel's receive buffer, transfers that ended,
	// no sockets known, no reply, no healthy session.
	s = &SlowResult{
		Requested: 10, Running: 8, Completed: 2, Sources: 1, File: "/f", Rate: 1 << 20, StartSeconds: 1,
		Before: Memory{RSS: 1 << 20, PSS: 1 << 20, Procs: 1}, During: Memory{RSS: 21 << 20, PSS: 9 << 20, Procs: 17},
	}
	got = strings.Join(slowNotes(s, 8<<20, time.Second), "\n")
	want = `8 of 10 transfers running over 1 source addresses, each reading /f at 1.00 MiB/s (the system's autotuned receive buffer); all started in 1.0s; rate is transfers started per second, latency from EPSV to the first byte
delivered 8.00 MiB/s in all over 1.0s: 1.00 MiB/s per running transfer
2 transfers reached the end of the file before the sample: use a larger file or a lower rate
server memory (17 processes): RSS 1.00 MiB before, 21.0 MiB during; PSS 1.00 MiB before, 9.00 MiB during: 2.50 MiB RSS and 1.00 MiB PSS per transfer, its session included (summed RSS counts a page shared by processes once in each)
after closing the data connections: no replies`
	if got != want {
		t.Errorf("notes:\n%s\nwant:\n%s", got, want)
	}
}

func TestSlowMetric(t *testing.T) {
	s := slowFixture()
	s.Running = 1024
	if v, system := s.TCPPerTransfer(); v != 200<<10 || system {
		t.Errorf("per transfer %v (system %v), want the server's sockets' 200 KiB", v, system)
	}
	r := &Result{Scenario: "slow-get", Slow: s}
	if m := MetricOf(r); m.Value != 200 || !m.LowerBetter || m.Unit != "KiB TCP memory/transfer" {
		t.Errorf("metric %+v", m)
	}
	s.Sockets = SockMem{}
	if v, system := s.TCPPerTransfer(); v != 300<<10 || !system {
		t.Errorf("without the server's sockets: %v (system %v), want the system's 300 KiB", v, system)
	}
	if m := MetricOf(r); m.Value != 300 || m.Unit != "KiB TCP memory/transfer (system)" {
		t.Errorf("metric without the server's sockets %+v", m)
	}
}

// The reader keeps to its rate: 40 KiB at 100 KiB/s from a peer that
// always has data takes about 0.4 s, read in chunks of the buffer's size.
func TestSlowReadKeepsItsRate(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		buf := make([]byte, 1<<10)
		for {
			if _, err := a.Write(buf); err != nil {
				return
			}
		}
	}()
	x := &slowXfer{}
	stop := make(chan struct{})
	firsts := 0
	done := make(chan int64)
	go func() {
		n, err := x.read(b, 100<<10, make([]byte, 4<<10), 10*time.Second, stop, func() { firsts++ })
		if err != nil {
			t.Error(err)
		}
		done <- n
	}()
	start := time.Now()
	for x.bytes.Load() < 40<<10 {
		time.Sleep(5 * time.Millisecond)
		if time.Since(start) > 20*time.Second {
			t.Fatal("40 KiB took over 20 s")
		}
	}
	took := time.Since(start)
	close(stop)
	b.SetReadDeadline(time.Now())
	n := <-done
	// At least the pace (less one chunk read at once); a busy machine may
	// make it slower, never faster.
	if took < 300*time.Millisecond {
		t.Errorf("40 KiB read in %v at 100 KiB/s, want at least 0.3 s", took)
	}
	if firsts != 1 || n < 40<<10 || x.done.Load() {
		t.Errorf("first called %d times, %d bytes, done %v", firsts, n, x.done.Load())
	}
}
