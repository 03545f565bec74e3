package bench

import (
	"strings"
	"testing"
	"time"
)

// The interleaved rows are judged round by round: each server's cost
// over rftpd's in the same round, against the control's.
func TestCompareRounds(t *testing.T) {
	const gib = 1 << 30
	res := func(step, server string, round int, msPerGiB float64) *Result {
		return &Result{Server: server, Scenario: "large-get", Step: step, Concurrency: 1, Round: round,
			Bytes: gib, BytesPerSec: 2 * gib, ServerCPU: msPerGiB / 1e3}
	}
	var results []*Result
	// large-get 1: vsftpd costs ×1.05–1.25 rftpd's, the control ×0.95–1.05,
	// the ceiling ×0.90.
	rftpd := []float64{200, 300, 250, 220, 240}
	vsftpd := []float64{1.10, 1.10, 1.05, 1.20, 1.25}
	control := []float64{1.05, 0.95, 1.00, 1.00, 1.02}
	for i, r := range rftpd {
		n := i + 1
		results = append(results, res("large-get 1", "rftpd", n, r), res("large-get 1", ClientControl, n, r*control[i]),
			res("large-get 1", "vsftpd", n, r*vsftpd[i]), res("large-get 1", "ceiling", n, r*0.9))
	}
	// A round without rftpd gives no ratios.
	results = append(results, res("large-get 1", "vsftpd", 6, 100), res("large-get 1", ClientControl, 6, 100))
	// large-get 4: pure-ftpd a little cheaper, within the noise.
	for i, p := range []float64{95, 105, 99} {
		n := 6 + i
		results = append(results, res("large-get 4", "rftpd", n, 100), res("large-get 4", "pure-ftpd", n, p), res("large-get 4", ClientControl, n, 100))
	}
	// A run of the suite from before the rounds (no Round) is not a round.
	results = append(results, res("large-get 1", "rftpd", 0, 900))
	in := CompareInput{
		Report:  &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare", Results: results},
		Servers: []string{"rftpd", "vsftpd", "pure-ftpd", "ceiling"}, Runs: 3, Steps: StandardSuite, Chart: "RESULTS.svg", PeerSessions: 2000, Scale: 1, LargeSize: gib, Cores: 2, Rounds: 4,
	}
	md := CompareMarkdown(in)
	for _, want := range []string{
		"## The interleaved steps, round by round",
		"ran the step back to back for 5 s each (the step's duration over the 4 rounds of a run)",
		"| step | rounds | rftpd | rftpd 2 | vsftpd | pure-ftpd | ceiling | best peer | met |",
		"| large-get 1 | 5 | 240 ms CPU per GiB | ×1.00 (1.00–1.02) | ×1.10 (1.10–1.20) | – | ×0.90 (0.90–0.90) | vsftpd, 264 ms CPU per GiB | yes |",
		"| large-get 4 | 3 | 100 ms CPU per GiB | ×1.00 (1.00–1.00) | – | ×0.99 (0.97–1.02) | – | pure-ftpd, 99.0 ms CPU per GiB | no (within the noise) |",
		"in 4 rounds per run: in each round every server, and a second rftpd as a control,",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	// The control's errors are listed with the others'.
	results[1].Errors, results[1].ErrorKinds = 3, map[string]int64{"timeout": 3}
	if md := CompareMarkdown(in); !strings.Contains(md, "- large-get 1, rftpd 2: 3 errors; most common: `timeout` (3)") {
		t.Errorf("the control's errors are not listed:\n%s", md)
	}
	// The control is no column of the suite's tables.
	if strings.Contains(md, "| step | metric | rftpd | rftpd 2 |") {
		t.Errorf("the control has a column in the results table:\n%s", md)
	}

	// Without rounds, no such section.
	in.Report.Results = results[len(results)-1:]
	if md := CompareMarkdown(in); strings.Contains(md, "round by round\n") {
		t.Errorf("a report without rounds has the rounds section:\n%s", md)
	}
}

// The control's ratio as far from ×1 as the best peer's leaves the row
// within the noise, even when the peer's middle half excludes ×1.
func TestRoundsControlBoundsVerdict(t *testing.T) {
	row := roundRow{cost: map[string][]float64{"vsftpd": {1}}, ratio: map[string][]float64{
		"vsftpd": {1.04, 1.05, 1.06}, ClientControl: {0.93, 0.94, 0.95},
	}}
	if resolved(row.ratio["vsftpd"], row.ratio[ClientControl]) {
		t.Error("a ×1.05 peer resolved beside a ×0.94 control")
	}
	row.ratio[ClientControl] = []float64{0.99, 1.0, 1.01}
	if !resolved(row.ratio["vsftpd"], row.ratio[ClientControl]) {
		t.Error("a ×1.05 peer, middle half above ×1, not resolved beside a ×1.00 control")
	}
}
