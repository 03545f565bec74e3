// Tests of the comparison report: medians, ratios, targets and errors in the Markdown.
package bench

import (
	"strings"
	"testing"
	"time"
)

func TestCompareMarkdown(t *testing.T) {
	res := func(server, scenario, step string, conc int, ops float64) *Result {
		return &Result{Server: server, Scenario: scenario, Step: step, Concurrency: conc, Unit: "files", OpsPerSec: ops}
	}
	var results []*Result
	for _, v := range []float64{100, 300, 200} { // median 200
		results = append(results, res("rftpd", "small-get", "small-get", 16, v*10))
		results = append(results, res("vsftpd", "small-get", "small-get", 16, v))
	}
	for i, r := range results { // CPU per file: rftpd 100, 50, 70 µs (median 70); vsftpd 700 µs
		r.Ops = 1000
		r.ServerCPU = []float64{0.1, 0.7, 0.05, 0.7, 0.07, 0.7}[i]
		r.ClientCPU = 0.2 // 200 µs per file: 2 cores allow 10,000 files/s
	}
	for _, v := range []float64{2500, 1600, 2100} { // the ceiling: median 2,100 files/s at 60 µs
		r := res("ceiling", "small-get", "small-get", 16, v)
		r.Ops, r.ServerCPU = 1000, 0.06
		results = append(results, r)
	}
	results = append(results,
		res("rftpd", "login", "login", 16, 5000), res("vsftpd", "login", "login", 16, 100),
		&Result{Server: "rftpd", Scenario: "large-get", Step: "large-get 1", Concurrency: 1, BytesPerSec: 0.95 * (1 << 30)},
		&Result{Server: "ceiling", Scenario: "large-get", Step: "large-get 1", Concurrency: 1, BytesPerSec: 1 << 30},
		&Result{Server: "rftpd", Scenario: "idle", Step: "idle 10k", Ops: 10000, Idle: &IdleResult{Requested: 10000, Held: 10000, PSSPerSession: 3000}},
		&Result{Server: "rftpd", Scenario: "idle", Step: "idle 15k", Ops: 14000, Idle: &IdleResult{Requested: 15000, Held: 14000, NoopOK: 14000, PSSPerSession: 2000}},
		&Result{Server: "rftpd", Scenario: "noop", Step: "noop 500 of 10k", Concurrency: 500, Held: 9500, OpsPerSec: 40000, Latency: Summary{P99: 12_000_000}},
		&Result{Server: "rftpd", Scenario: "noop", Step: "noop 500 of 10k at 20/s each", Concurrency: 500, Held: 9500, Rate: 10000, Latency: Summary{P99: 7_000_000}},
		&Result{Server: "vsftpd", Scenario: "list", Step: "list", Unit: "listings", OpsPerSec: 5, Errors: 3, ErrorKinds: map[string]int64{"MLSD: 500 Unknown command.": 3}},
		// FTPS rows: they must not stand in for the plain ones above.
		&Result{Server: "rftpd", Scenario: "idle", Step: "idle 10k TLS", TLS: "explicit", Ops: 10000, Idle: &IdleResult{Requested: 10000, Held: 10000, PSSPerSession: 11 * 1024}},
		&Result{Server: "vsftpd", Scenario: "idle", Step: "idle 10k TLS", TLS: "explicit", Ops: 2000, Idle: &IdleResult{Requested: 2000, Held: 2000, PSSPerSession: 600 * 1024}},
		&Result{Server: "rftpd", Scenario: "login", Step: "login TLS", TLS: "explicit", Unit: "sessions", OpsPerSec: 1500},
		&Result{Server: "vsftpd", Scenario: "login", Step: "login TLS", TLS: "explicit", Unit: "sessions", OpsPerSec: 200},
		&Result{Server: "rftpd", Scenario: "large-get", Step: "large-get 1 TLS", TLS: "explicit", Concurrency: 1, BytesPerSec: 1 << 30},
	)
	md := CompareMarkdown(CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "vsftpd", "ceiling"}, Versions: map[string]string{"rftpd": "abc", "vsftpd": "3.0.3"},
		Runs: 3, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: 1 << 30, Cores: 2,
	})
	for _, want := range []string{
		"| small-get | files/s | 2,000 | 200<br>×10.00 | 2,100<br>×0.95 |",
		"| small-get | µs CPU per file | 70.0 | 700<br>×10.00 | 60.0<br>×0.86 |",
		"| login (anonymous): ≥ 10× vsftpd's sessions/s | 5000 vs 100 sessions/s: ×50.0 | yes |",
		"| small-get: ≥ 2× the best peer's files/s | 2000 vs vsftpd's 200 files/s: ×10.00; driving rftpd, the load generator itself spent 200 µs of CPU per file, so on 2 cores it could reach at most 10000 files/s even if the server cost nothing; server CPU: 70 vs 700 µs CPU per file (×10.00); the ceiling, which does nothing but send the files, made 2100 files/s (×10.50 of vsftpd's) at 60 µs CPU per file | yes |",
		"95 % | yes |",
		"10000 held, 2.93 KiB/session | yes |",
		"| 14000 of 15000 held, 14000 answered NOOP | no |",
		"and so does rftpd (`atomic_uploads = false`, `durable_uploads = false`) in every row but those marked \"atomic durable\".",
		"p99 7.00 ms with 9500 held + 500 active at 20 commands/s each (back to back: p99 12.00 ms at 40,000 commands/s in all) | no |",
		"- list, vsftpd: 3 errors; most common: `MLSD: 500 Unknown command.` (3)",
		"Versions: rftpd abc, vsftpd 3.0.3.",
		"![chart](RESULTS.svg)",
		"| memory per idle TLS session (PSS) | 11.0 KiB (10000 sessions) | 600.0 KiB (2000 sessions) | ≤ 12 KiB | yes |",
		"| TLS logins | 1,500 sessions/s | 200 sessions/s | – | – |",
		"| one TLS download stream (large-get 1) | 1.00 GiB/s (plain: 973 MiB/s) | – | – | – |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
}

func TestComparePairedRounds(t *testing.T) {
	const gib = 1 << 30
	large := func(server string, pair int, gibps, cpu float64) *Result {
		return &Result{Server: server, Scenario: "large-get", Step: "large-get 1 paired", Concurrency: 1, Pair: pair,
			BytesPerSec: gibps * gib, Bytes: 10 * gib, ServerCPU: cpu}
	}
	results := []*Result{
		// The suite's own rows, minutes apart: 50 %.
		{Server: "rftpd", Scenario: "large-get", Step: "large-get 1", Concurrency: 1, BytesPerSec: 2 * gib},
		{Server: "ceiling", Scenario: "large-get", Step: "large-get 1", Concurrency: 1, BytesPerSec: 4 * gib},
		// Rounds against the mean of both ceilings: 80 %, 100 %, 95 %,
		// 90 % (median 92.5 %); the ceilings against each other: 150 %,
		// 100 %, 100 %, 80 % (median 100 %).
		large("rftpd", 1, 4, 2), large("ceiling", 1, 4, 1.8), large(PairedControl, 1, 6, 2.2),
		large("ceiling", 2, 3, 2.5), large(PairedControl, 2, 3, 2.5), large("rftpd", 2, 3, 2.4),
		large(PairedControl, 3, 6, 1.6), large("rftpd", 3, 5.7, 1.7), large("ceiling", 3, 6, 1.6),
		large("rftpd", 4, 3.6, 2), large(PairedControl, 4, 3.2, 2), large("ceiling", 4, 4.8, 2),
		// A round cut short (no second ceiling) counts for nothing.
		large("rftpd", 5, 1, 3), large("ceiling", 5, 1, 3),
	}
	in := CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "ceiling"}, Runs: 3, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: gib, Cores: 2,
	}
	md := CompareMarkdown(in)
	for _, want := range []string{
		"| large-get: one stream ≥ 90 % of the raw sendfile ceiling | 92 %: the median over 4 paired rounds of rftpd's rate over the mean of two ceilings' " +
			"(middle half 88–96 %, all 80–100 %; the second ceiling over the first, the method's own spread: median 100 %, middle half 92–112 %; " +
			"rftpd's CPU per GiB, median 100 % of the ceiling's (the second ceiling's over the first's: median 100 %, middle half 100–106 %); see below); " +
			"suite medians, minutes apart: 2.00 GiB/s vs 4.00 GiB/s (50 %) | yes |",
		"| 1 | r c c2 | 4.00 GiB/s | 4.00 GiB/s | 6.00 GiB/s | 80 % | 150 % | 200 ms CPU per GiB | 180 ms CPU per GiB | 220 ms CPU per GiB |",
		"| 2 | c c2 r | 3.00 GiB/s | 3.00 GiB/s | 3.00 GiB/s | 100 % | 100 % |",
		"| 3 | c2 r c | 5.70 GiB/s | 6.00 GiB/s | 6.00 GiB/s | 95 % | 100 % |",
		"| 4 | r c2 c | 3.60 GiB/s | 4.80 GiB/s | 3.20 GiB/s | 90 % | 67 % |",
		// The paired rows stay out of the suite's table.
		"| large-get 1 | GiB/s | 2.00 | 4.00<br>×0.50 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	for _, bad := range []string{"| 5 |", "large-get 1 paired |"} {
		if strings.Contains(md, bad) {
			t.Errorf("report has %q\n%s", bad, md)
		}
	}

	// A report from before the second ceiling: rftpd against the one.
	old := []*Result{
		large("rftpd", 1, 4, 2), large("ceiling", 1, 5, 1.8),
		large("ceiling", 2, 3, 2.5), large("rftpd", 2, 3, 2.4),
		large("rftpd", 3, 5.7, 1.7), large("ceiling", 3, 6, 1.6),
	}
	in.Report.Results = old
	md = CompareMarkdown(in)
	for _, want := range []string{
		"| 95 %: the median over 3 paired rounds of rftpd's rate over the ceiling's (middle half 88–98 %, all 80–100 %; rftpd's CPU per GiB, median 106 % of the ceiling's; see below) | yes |",
		"| 1 | rftpd | 4.00 GiB/s | 5.00 GiB/s | 80 % | 200 ms CPU per GiB | 180 ms CPU per GiB |",
		"| 2 | ceiling | 3.00 GiB/s | 3.00 GiB/s | 100 % |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}

	// Without rounds the suite's medians decide, as before.
	in.Report.Results = results[:2]
	if md := CompareMarkdown(in); !strings.Contains(md, "| large-get: one stream ≥ 90 % of the raw sendfile ceiling | 2.00 GiB/s vs 4.00 GiB/s: 50 % | no |") {
		t.Errorf("report without rounds:\n%s", md)
	}
}

func TestCompareSlowGet(t *testing.T) {
	slow := func(server, step string, sockets, unsent, pss, rss int64, procs int) *Result {
		return &Result{Server: server, Scenario: "slow-get", Step: step, Concurrency: 1000, Ops: 1000, Unit: "transfers",
			Seconds: 10, BytesPerSec: 1000 * 64 << 10, Slow: &SlowResult{
				Requested: 1000, Running: 1000, Sources: 16, File: "/slow/100MiB.bin", Rate: 64 << 10, RcvBuf: 64 << 10,
				Before:       Memory{RSS: 10 << 20, PSS: 10 << 20, Procs: 1},
				During:       Memory{RSS: 10<<20 + rss, PSS: 10<<20 + pss, Procs: procs},
				Sockets:      SockMem{Sockets: 2000, Mem: sockets, Unsent: unsent},
				SysTCPBefore: 4 << 20, SysTCP: 4<<20 + sockets + 100<<20, SysTCPPressure: 1500 << 20, SysTCPLimit: 2200 << 20,
			}}
	}
	results := []*Result{
		slow("rftpd", "slow-get 1000", 200<<20, 180<<20, 10<<20, 10<<20, 1),
		slow("rftpd", "slow-get 1000 data_unsent 64K", 100<<20, 60<<20, 10<<20, 10<<20, 1),
		slow("vsftpd", "slow-get 1000", 3000<<20, 2900<<20, 500<<20, 3000<<20, 2001),
	}
	md := CompareMarkdown(CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "vsftpd"}, Runs: 1, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: 1 << 30, Cores: 2,
	})
	for _, want := range []string{
		"| slow-get 1000 | KiB TCP memory/transfer (lower is better) | 205 | 3,072<br>×15.00 |",
		"| slow-get 1000 data_unsent 64K | KiB TCP memory/transfer (lower is better) | 102 | – |",
		"## Memory under slow downloads\n\nslow-get: 1000 clients each download /slow/100MiB.bin at 64.0 KiB/s through a data connection with a receive buffer held small (SO_RCVBUF 64.0 KiB, set before it connects), as a slow client's is. Once every transfer runs, the figures are taken after 10 s:",
		"| server | running | server sockets' TCP memory | of it unsent | server PSS | server RSS | system TCP memory | delivered | TCP memory against rftpd's |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
			"| rftpd | 1000 of 1000 | 205 KiB<br>200 MiB | 184 KiB<br>180 MiB | 10.2 KiB<br>10.0 MiB | 10.2 KiB<br>10.0 MiB | 307 KiB<br>300 MiB | 64.0 KiB/s<br>62.5 MiB/s | – |\n" +
			"| vsftpd | 1000 of 1000 | 3.00 MiB<br>2.93 GiB | 2.90 MiB<br>2.83 GiB | 512 KiB<br>500 MiB | 3.00 MiB<br>2.93 GiB | 3.10 MiB<br>3.03 GiB | 64.0 KiB/s<br>62.5 MiB/s | ×15.00 |\n" +
			"| rftpd, data_unsent 64.0 KiB | 1000 of 1000 | 102 KiB<br>100 MiB | 61.4 KiB<br>60.0 MiB | 10.2 KiB<br>10.0 MiB | 10.2 KiB<br>10.0 MiB | 205 KiB<br>200 MiB | 64.0 KiB/s<br>62.5 MiB/s | ×0.50 |\n",
		"\nvsftpd: the system's TCP memory reached net.ipv4.tcp_mem's hard limit (2.15 GiB): the kernel refused sockets more buffers, so the figures are the limit's, not the server's own need.\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}

	if strings.Count(md, "tcp_mem's") != 1 {
		t.Errorf("tcp_mem named for rows below its thresholds:\n%s", md)
	}

	// Without slow-get results there is no such section.
	md = CompareMarkdown(CompareInput{
		Report:  &Report{Results: results[:0]},
		Servers: []string{"rftpd"}, Runs: 1, Steps: StandardSuite, Scale: 1,
	})
	if strings.Contains(md, "Memory under slow downloads") {
		t.Error("a section without slow-get results")
	}
}

// The report says where the single-stream steps ran: in the introduction,
// below the server CPU table, in the large-get target and above the
// paired rounds.
func TestComparePlacement(t *testing.T) {
	const gib = 1 << 30
	const same = "same: server and client on CPU 0"
	large := func(server, step string, pair int, placement string) *Result {
		return &Result{Server: server, Scenario: "large-get", Step: step, Concurrency: 1, Pair: pair, Placement: placement,
			BytesPerSec: gib, Bytes: 10 * gib, ServerCPU: 1.5}
	}
	results := []*Result{
		large("rftpd", "large-get 1", 0, same), large("ceiling", "large-get 1", 0, same),
		{Server: "rftpd", Scenario: "large-put", Step: "large-put 1", Concurrency: 1, Placement: same, BytesPerSec: gib, Bytes: 10 * gib, ServerCPU: 3},
		{Server: "rftpd", Scenario: "small-get", Step: "small-get", Concurrency: 16, Unit: "files", Ops: 1000, OpsPerSec: 1000, ServerCPU: 0.1},
		large("rftpd", "large-get 1 paired", 1, same), large("ceiling", "large-get 1 paired", 1, same), large(PairedControl, "large-get 1 paired", 1, same),
	}
	md := CompareMarkdown(CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "ceiling"}, Runs: 1, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: gib, Cores: 2,
		Pin: PinPlan{Placement: PinSame},
	})
	for _, want := range []string{
		"- Placement (`-pin same`): the single-stream steps (large-get 1, large-get 1 beside 300 idle, large-put 1, large-get 1 TLS, the paired rounds) and the client matrix ran with the server " +
			"(every thread of its process and of its descendants) and the client on CPU 0; the steps of many streams or sessions ran unpinned. " +
			"On loopback one stream's server CPU depends mostly on where the two run: on the 2-vCPU VM where this was measured, a 1 GiB RETR from the page cache " +
			"(curl, the server's CPU from a cpuacct cgroup) cost the server 120–170 ms of CPU per GiB with both on one CPU, steady within ±10 %, and 540–860 ms with them on different CPUs: " +
			"wake-ups across CPUs are costly in a VM, and on loopback the sender's softirq also does the receiver's TCP work. Left to the scheduler, each run lands on either at random, " +
			"and rounds swung by ×1.3 to ×2.3; on one CPU the figures are steady enough to compare, though they are the cost of a transfer whose two ends share a CPU.\n",
		"| large-put 1 | ms CPU per GiB | 300 | – |\n\nWhere large-get 1 and large-put 1 ran: server and client on CPU 0 (`-pin same`); the other steps ran unpinned.\n\n## Targets",
		"rftpd's CPU per GiB, median 100 % of the ceiling's (the second ceiling's over the first's: median 100 %, middle half 100–100 %); server and client on CPU 0 (`-pin same`); see below)",
		"the target's figure is the median of the rounds' ratios.\n\nPlacement: server and client on CPU 0 (`-pin same`): in each part the server's threads and ftpbench's are pinned " +
			"from before its session opens until it ends. On loopback one stream's server CPU depends mostly on whether server and client share a CPU (see the introduction); " +
			"on one CPU it is steady.\n\n| round |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}

	// Split and off in the introduction; a step that fell back to
	// unpinned in one run is named with both.
	for plan, want := range map[PinPlan]string{
		{Placement: PinSplit, Server: 0, Client: 1}: "ran with the server (every thread of its process and of its descendants) on CPU 0 and the client on CPU 1; the steps of many streams or sessions ran unpinned. ",
		{Placement: PinOff}:                         "- Placement (`-pin off`): the single-stream steps (large-get 1, large-get 1 beside 300 idle, large-put 1, large-get 1 TLS, the paired rounds) and the client matrix ran, like every other step, wherever the scheduler put server and client. ",
	} {
		if got := placementIntro(plan); !strings.Contains("- "+got, want) {
			t.Errorf("%v: %q lacks %q", plan, got, want)
		}
	}
	results[1].Placement = "off: unpinned"
	if got, want := pinnedText(results, StandardSuite), "Where the single-stream steps ran: large-get 1, server and client on CPU 0 (`-pin same`), then unpinned (`-pin off`); "+
		"large-put 1, server and client on CPU 0 (`-pin same`); the other steps ran unpinned."; got != want {
		t.Errorf("mixed placements:\n%s\nwant\n%s", got, want)
	}
	if got := pinnedText(results[3:4], StandardSuite); got != "" {
		t.Errorf("no placement, yet %q", got)
	}
}

func TestFloorText(t *testing.T) {
	noop := func(server, step string, cpu float64) *Result {
		return &Result{Server: server, Scenario: "noop", Step: step, Ops: 1_000_000, Unit: "commands", ServerCPU: cpu}
	}
	if got := floorText([]*Result{noop("rftpd", "noop", 20)}); got != "" {
		t.Errorf("without the floor: %q", got)
	}
	got := floorText([]*Result{
		noop("rftpd", "noop", 21), noop("rftpd", "noop", 20), noop("rftpd", "noop", 22),
		noop("floor", "noop", 16), noop("vsftpd", "noop", 19), noop("vsftpd", "noop 500 of 10k at 20/s each", 19),
		noop("rftpd", "noop 500 of 10k", 24), noop("floor", "noop 500 of 10k", 15),
	})
	want := "CPU per command against the floor, which does nothing but read commands and write replies: " +
		"noop: rftpd 21.0 µs, the floor 16.0 µs, ×1.31; noop 500 of 10k: rftpd 24.0 µs, the floor 15.0 µs, ×1.60. " +
		"What the floor spends is almost all the kernel's price of the read, the write and the loopback delivery of the reply: " +
		"the least a server that answers each command as it comes can spend. rftpd's own work per command is what it spends beyond it."
	if got != want {
		t.Errorf("floorText:\n%s\nwant\n%s", got, want)
	}
}

// Where server and client shared a CPU, the report adds its busy time per
// operation below the server CPU table: medians, and ratios to rftpd's.
func TestCompareSharedCPU(t *testing.T) {
	const gib = 1 << 30
	const same = "same: server and client on CPU 0"
	large := func(server string, cpu, shared float64) *Result {
		return &Result{Server: server, Scenario: "large-get", Step: "large-get 1", Concurrency: 1, Placement: same,
			BytesPerSec: gib, Bytes: 10 * gib, ServerCPU: cpu, SharedCPU: shared}
	}
	results := []*Result{
		large("rftpd", 3.5, 9), large("rftpd", 3.4, 8.4), large("rftpd", 3.6, 9.6), large("vsftpd", 3.3, 9.9),
		{Server: "rftpd", Scenario: "small-get", Step: "small-get", Concurrency: 16, Unit: "files", Ops: 1000, OpsPerSec: 1000, ServerCPU: 0.1},
	}
	in := CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "vsftpd"}, Runs: 3, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: gib, Cores: 2,
		Pin: PinPlan{Placement: PinSame},
	}
	md := CompareMarkdown(in)
	for _, want := range []string{
		"| large-get 1 | ms CPU per GiB | 350 | 330<br>×0.94 |\n",
		"this figure no such shift lowers. Below each cell, as above, the server's figure over rftpd's.\n\n" +
			"| step | unit | rftpd | vsftpd |\n|---|---|---:|---:|\n" +
			"| large-get 1 | ms shared CPU per GiB | 900 | 990<br>×1.10 |\n\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	// The small-get row had no shared figure, and without any the table
	// is left out.
	if strings.Contains(md, "| small-get | µs shared") {
		t.Error("a shared row for a step that measured none")
	}
	for _, r := range results {
		r.SharedCPU = 0
	}
	if md := CompareMarkdown(in); strings.Contains(md, "shared CPU per") {
		t.Error("a shared CPU table with nothing measured")
	}
}

func TestSchedIntro(t *testing.T) {
	if got := schedIntro(nil); got != "" {
		t.Errorf("no Sched: %q, want none", got)
	}
	all := schedIntro(map[string]string{"rftpd": "cgroup v1 cpu", "vsftpd": "cgroup v1 cpu"})
	if !strings.HasPrefix(all, "Scheduling: each server ran in a cpu control group of its own (cgroup v1 cpu)") || !strings.Contains(all, "autogroup") {
		t.Errorf("all grouped: %q", all)
	}
	none := schedIntro(map[string]string{"rftpd": "", "vsftpd": ""})
	if !strings.HasPrefix(none, "Scheduling: no cpu control group could be made") || !strings.HasSuffix(none, "carry that difference.") {
		t.Errorf("none grouped: %q", none)
	}
	mixed := schedIntro(map[string]string{"vsftpd": "", "rftpd": "cgroup v2 cpu", "floor": "cgroup v2 cpu"})
	want := "Scheduling against the load generator: vsftpd weighed process by process (no cpu control group could be made); floor and rftpd, each in a cpu control group of its own (cgroup v2 cpu), weighed as one."
	if !strings.HasPrefix(mixed, want) {
		t.Errorf("mixed:\n got %q\nwant %q…", mixed, want)
	}
}

func TestOrderIntro(t *testing.T) {
	steps := []Step{{Label: "noop"}, {Label: "large-get 1", Interleave: true}, {Label: "large-get 4", Interleave: true}}
	got := orderIntro(steps, 3, 0)
	want := "Order: in each run every server took its turn through the other steps, minutes apart; large-get 1 and large-get 4 ran one at a time, in rounds: in each round every server, and a second rftpd as a control, ran the step back to back"
	if !strings.HasPrefix(got, want) || !strings.Contains(got, "Williams design") {
		t.Errorf("got %q\nwant %q…", got, want)
	}
	if got := orderIntro(steps[1:], 3, 4); !strings.HasPrefix(got, "Order: large-get 1 and large-get 4 ran one at a time, in 4 rounds per run:") {
		t.Errorf("rounds alone: %q", got)
	}
	for _, c := range []struct {
		steps   []Step
		servers int
	}{{steps[:1], 3}, {steps, 1}, {nil, 3}} {
		if got := orderIntro(c.steps, c.servers, 0); got != "" {
			t.Errorf("%d steps, %d servers: %q, want none", len(c.steps), c.servers, got)
		}
	}
}
