// Tests of the client matrix in reports: medians, ratios beside the control's, the verdicts and every round, as exact Markdown.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// testMatrix is two rounds of curl (both ways) and wget (downloads)
// against rftpd, the control and vsftpd, each server moving 1 GiB.
func testMatrix() *ClientMatrix {
	const gib = 1 << 30
	run := func(round, pos int, client, dir, server string, cpu, secs float64) *ClientRun {
		return &ClientRun{Round: round, Position: pos, Client: client, Direction: dir, Server: server, Bytes: gib, Seconds: secs, ServerCPU: cpu}
	}
	m := &ClientMatrix{
		Servers: []string{"rftpd", ClientControl, "vsftpd"}, Clients: []string{"curl", "wget"},
		Versions: map[string]string{"curl": "7.88.1", "wget": "1.21.3"}, Size: gib, Rounds: 2,
		Placement: "same: server and client on CPU 0",
	}
	m.Runs = []*ClientRun{
		// Round 1: r r2 v.
		run(1, 0, "curl", Download, "rftpd", 0.5, 1), run(1, 1, "curl", Download, ClientControl, 0.52, 1), run(1, 2, "curl", Download, "vsftpd", 1.0, 2),
		run(1, 0, "curl", Upload, "rftpd", 0.8, 1), run(1, 1, "curl", Upload, ClientControl, 0.8, 1), run(1, 2, "curl", Upload, "vsftpd", 0.7, 1),
		run(1, 0, "wget", Download, "rftpd", 0.6, 1), run(1, 1, "wget", Download, ClientControl, 0.6, 1), run(1, 2, "wget", Download, "vsftpd", 0.62, 1),
		// Round 2: r2 v r.
		run(2, 0, "curl", Download, ClientControl, 0.48, 1), run(2, 1, "curl", Download, "vsftpd", 0.9, 2), run(2, 2, "curl", Download, "rftpd", 0.5, 1),
		run(2, 0, "curl", Upload, ClientControl, 0.84, 1), run(2, 1, "curl", Upload, "vsftpd", 0.72, 1), run(2, 2, "curl", Upload, "rftpd", 0.8, 1),
		run(2, 0, "wget", Download, ClientControl, 0.66, 1),
		{Round: 2, Position: 1, Client: "wget", Direction: Download, Server: "vsftpd", Seconds: 0.1, Error: "wget: exit status 8: 550 Permission denied."},
		run(2, 2, "wget", Download, "rftpd", 0.6, 1),
	}
	// The shared CPU's busy time, for curl's downloads only.
	shared := map[string][2]float64{"rftpd": {0.9, 0.9}, ClientControl: {0.92, 0.88}, "vsftpd": {1.4, 1.3}}
	for _, r := range m.Runs {
		if r.Client == "curl" && r.Direction == Download {
			r.SharedCPU = shared[r.Server][r.Round-1]
		}
	}
	return m
}

func TestClientSection(t *testing.T) {
	var b strings.Builder
	clientSection(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, testMatrix(), CPUSourceText(map[string]string{"rftpd": "cgroup v1 cpuacct", "rftpd 2": "cgroup v1 cpuacct", "vsftpd": "cgroup v1 cpuacct"}))
	want, err := os.ReadFile("testdata/client-matrix.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("client matrix section:\n%s\nwant (testdata/client-matrix.md):\n%s", got, want)
	}
}

// A report of the client matrix alone has no suite sections, lists the
// failed runs under Errors, and keeps the matrix through JSON.
func TestCompareMarkdownClientsOnly(t *testing.T) {
	rep := &Report{Started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: "test box", Command: "ftpbench compare -steps clients", Clients: testMatrix()}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := WriteJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Clients, rep.Clients) {
		t.Errorf("through JSON: %+v, want %+v", back.Clients, rep.Clients)
	}
	md := CompareMarkdown(CompareInput{Report: back, Servers: []string{"rftpd", "vsftpd"}, Runs: 1, Steps: nil, Scale: 1, LargeSize: 1 << 30, Cores: 2})
	for _, want := range []string{
		"rerun it to refresh. The client matrix alone (`-steps clients`).\n",
		"\n## Client matrix\n",
		"| curl download | vsftpd, 950 ms/GiB | ×1.90 (1.85–1.95) | ×1.00 (0.98–1.02) | yes |\n",
		"## Errors\n\n- client matrix: 1 of 18 runs failed (listed under the client matrix)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	for _, bad := range []string{"## Results", "## Targets", "![chart]", "None: every operation"} {
		if strings.Contains(md, bad) {
			t.Errorf("report has %q\n%s", bad, md)
		}
	}
}

func TestWriteClientTable(t *testing.T) {
	var b strings.Builder
	if err := WriteClientTable(&b, testMatrix()); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.SplitSeq(b.String(), "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	for _, want := range []string{
		"client direction server rounds CPU ms/GiB rate CPU / rftpd's in all ms/GiB failed",
		"curl download rftpd 2 500 1.00 GiB/s - 900 0",
		"curl download vsftpd 2 950 512 MiB/s ×1.90 (1.85–1.95) 1350 0",
		"curl upload vsftpd 2 710 1.00 GiB/s ×0.89 (0.88–0.89) - 0",
		"wget download vsftpd 1 620 1.00 GiB/s ×1.03 (1.03–1.03) - 1",
	} {
		if !slices.Contains(rows, want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestResolved(t *testing.T) {
	for _, c := range []struct {
		name           string
		ratio, control []float64
		want           bool
	}{
		{"well apart, quiet control", []float64{1.9, 2.0, 1.8}, []float64{1.01, 0.99, 1.02}, true},
		{"below, quiet control", []float64{0.9, 0.88, 0.91}, []float64{1.01, 0.99, 1.02}, true},
		{"the rounds disagree", []float64{0.8, 1.3, 1.1, 0.9}, []float64{1, 1}, false},
		{"the control strays as far", []float64{0.81, 0.82}, []float64{1.3, 1.35}, false},
		{"as far the other way", []float64{1.2, 1.21}, []float64{0.8, 0.81}, false},
		{"no control", []float64{1.2, 1.3}, nil, true},
		{"no rounds", nil, []float64{1}, false},
	} {
		if got := resolved(c.ratio, c.control); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func TestCPUSourceText(t *testing.T) {
	for _, c := range []struct {
		in   map[string]string
		want string
	}{
		{nil, "from /proc/PID/stat of the server and its descendants, session processes it reaped included, in 10 ms ticks"},
		{map[string]string{"rftpd": "cgroup v2", "vsftpd": "cgroup v2"}, "from a control group made for the server (cgroup v2 cpu.stat usage_usec, in microseconds), which counts every process that ran in it, reaped or not"},
		{map[string]string{"vsftpd": ProcCPUSource, "rftpd": "cgroup v1 cpuacct", "proftpd": ProcCPUSource},
			"proftpd, vsftpd: from /proc/PID/stat of the server and its descendants, session processes it reaped included, in 10 ms ticks; " +
				"rftpd: from a control group made for the server (cgroup v1 cpuacct.usage, in nanoseconds), which counts every process that ran in it, reaped or not"},
	} {
		if got := CPUSourceText(c.in); got != c.want {
			t.Errorf("CPUSourceText(%v) =\n%s\nwant\n%s", c.in, got, c.want)
		}
	}
}
