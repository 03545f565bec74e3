// Tests of the suite definition, scaling, metrics, medians and the SVG chart.
package bench

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStandardSuite(t *testing.T) {
	var total time.Duration
	for _, s := range StandardSuite {
		if _, ok := Lookup(s.Scenario); !ok {
			t.Errorf("step %q: unknown scenario %q", s.Label, s.Scenario)
		}
		if s.Concurrency < 1 {
			t.Errorf("step %q: concurrency %d", s.Label, s.Concurrency)
		}
		if s.Count == 0 {
			total += s.Duration // a counted step ends with its count
		}
	}
	if total < 3*time.Minute || total > 7*time.Minute {
		t.Errorf("suite measures for %v; want about 7 minutes with set-up", total)
	}
	atomic := FilterSteps(StandardSuite, []string{"atomic"})
	if len(atomic) != 2 || atomic[0].Scenario != "small-put" || atomic[1].Scenario != "large-put" || !atomic[0].AtomicUploads || !atomic[1].AtomicUploads {
		t.Errorf("steps with rftpd's default uploads: %+v", atomic)
	}
	slow := FilterSteps(StandardSuite, []string{"slow-get"})
	if len(slow) != 2 || slow[0].Sessions != 1000 || slow[0].DataUnsent != 0 || slow[1].DataUnsent != 64<<10 {
		t.Errorf("slow-get steps %+v", slow)
	}
	put := FilterSteps(StandardSuite, []string{"put 300"})
	if len(put) != 1 || put[0].Scenario != "large-put" || put[0].Count != 300 || put[0].Concurrency != 300 || put[0].PutSize != 10<<20 || put[0].Pin {
		t.Errorf("concurrent uploads step %+v", put)
	}
	beside := FilterSteps(StandardSuite, []string{"beside 300 idle"})
	if len(beside) != 1 || beside[0].Scenario != "large-get" || beside[0].Hold != 300 || beside[0].Concurrency != 1 || !beside[0].Pin {
		t.Errorf("download beside idle sessions %+v", beside)
	}
	if p := ScaleSuite(put, 0.1)[0]; p.Count != 30 || p.Concurrency != 30 || p.PutSize != 10<<20 {
		t.Errorf("scaled concurrent uploads %+v", p)
	}
	small := ScaleSuite(StandardSuite, 0.1)
	if small[0].Sessions != 1000 || small[2].Duration != 3*time.Second || !strings.HasSuffix(small[0].Label, "×0.1") {
		t.Errorf("scaled: %+v %+v", small[0], small[2])
	}
	if StandardSuite[0].Sessions != 10000 {
		t.Error("ScaleSuite changed its input")
	}
	for _, s := range small {
		if s.Rate > 0 && s.Rate/float64(s.Concurrency) != 20 {
			t.Errorf("scaled step %q: %g/s over %d sessions; want 20/s each", s.Label, s.Rate, s.Concurrency)
		}
	}
	tiny := ScaleSuite(StandardSuite, 0.0001)
	for _, s := range tiny {
		if s.Duration < time.Second || (s.Sessions != 0 && s.Sessions < 10) || s.Concurrency < 1 || (s.Count != 0 && int64(s.Concurrency) > s.Count) {
			t.Errorf("tiny step %+v", s)
		}
	}
}

func TestFilterSteps(t *testing.T) {
	tls := FilterSteps(StandardSuite, []string{"TLS"})
	if len(tls) != 3 {
		t.Fatalf("TLS steps: %+v", tls)
	}
	for _, s := range tls {
		if !s.TLS {
			t.Errorf("step %q is not marked TLS", s.Label)
		}
	}
	two := FilterSteps(StandardSuite, []string{"large-get 1", "mixed"})
	if len(two) != 4 || two[0].Label != "large-get 1" || two[1].Label != "large-get 1 beside 300 idle" || two[2].Label != "mixed" || two[3].Label != "large-get 1 TLS" {
		t.Errorf("filtered: %+v", two)
	}
	if all := FilterSteps(StandardSuite, nil); len(all) != len(StandardSuite) {
		t.Errorf("no words kept %d of %d steps", len(all), len(StandardSuite))
	}
	if none := FilterSteps(StandardSuite, []string{"nothing"}); len(none) != 0 {
		t.Errorf("kept %+v", none)
	}
}

func TestSelected(t *testing.T) {
	for _, c := range []struct {
		label string
		words []string
		want  bool
	}{
		{ClientStep, nil, true},
		{ClientStep, []string{"clients"}, true},
		{ClientStep, []string{"TLS", "client"}, true},
		{ClientStep, []string{"TLS"}, false},
		{ClientStep, []string{""}, false},
		{"large-get 1", []string{"clients"}, false},
	} {
		if got := Selected(c.label, c.words); got != c.want {
			t.Errorf("Selected(%q, %q) = %v", c.label, c.words, got)
		}
	}
}

// A TLS step without a client TLS configuration (the server offers no
// FTPS) is skipped, not failed.
func TestRunSuiteSkipsTLSWithoutConfig(t *testing.T) {
	rs, err := RunSuite(context.Background(), FilterSteps(StandardSuite, []string{"TLS"}), Config{})
	if err != nil || len(rs) != 0 {
		t.Fatalf("results %v, error %v", rs, err)
	}
}

func TestTLSOptions(t *testing.T) {
	cfg, err := TLSOptions{Insecure: true}.Config("127.0.0.1:2121")
	if err != nil || cfg.ServerName != "127.0.0.1" || !cfg.InsecureSkipVerify || cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not PEM"), 0o600)
	if _, err := (TLSOptions{CAFile: bad}).Config("127.0.0.1:21"); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("a CA file without certificates: %v", err)
	}
	if _, err := (TLSOptions{}).Config("no-port"); err == nil {
		t.Error("an address without a port was accepted")
	}
}

func TestMetricAndMedian(t *testing.T) {
	idle := &Result{Scenario: "idle", Idle: &IdleResult{PSSPerSession: 2048}}
	if m := MetricOf(idle); m.Value != 2 || !m.LowerBetter || m.Unit != "KiB/session" {
		t.Errorf("idle metric %+v", m)
	}
	noop := &Result{Scenario: "noop", Held: 10, Latency: Summary{P99: 3_000_000}}
	if m := MetricOf(noop); m.Value != 3 || !m.LowerBetter {
		t.Errorf("noop metric %+v", m)
	}
	large := &Result{Scenario: "large-get", BytesPerSec: 2 << 30}
	if m := MetricOf(large); m.Value != 2 || m.Unit != "GiB/s" {
		t.Errorf("large metric %+v", m)
	}
	rs := []*Result{{Scenario: "login", Unit: "sessions", OpsPerSec: 30}, {Scenario: "login", Unit: "sessions", OpsPerSec: 10}, {Scenario: "login", Unit: "sessions", OpsPerSec: 20}}
	if m := MedianResult(rs); m.OpsPerSec != 20 {
		t.Errorf("median %v", m.OpsPerSec)
	}
}

func TestChartSVG(t *testing.T) {
	results := []*Result{
		{Scenario: "login", Server: "a", Unit: "sessions", OpsPerSec: 100},
		{Scenario: "login", Server: "b<&>", Unit: "sessions", OpsPerSec: 50},
		{Scenario: "large-get", Step: "large-get 1", Server: "a", BytesPerSec: 1 << 30},
	}
	rows := ChartRows([]string{"a", "b<&>"}, results)
	if len(rows) != 2 || rows[0].Values["b<&>"] != 50 || rows[1].Label != "large-get 1" || len(rows[1].Values) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	var b strings.Builder
	if err := WriteSVG(&b, "title & more", []string{"a", "b<&>"}, rows); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, escaped names, a bar per value.
	d := xml.NewDecoder(strings.NewReader(b.String()))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed: %v\n%s", err, b.String())
			}
			break
		}
	}
	for _, want := range []string{"b&lt;&amp;&gt;", "title &amp; more", "sessions/s", "GiB/s", ">100<", ">50.0<"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestPairedOrder(t *testing.T) {
	// Six rounds in a row go through every order once, whichever round
	// they start from.
	for start := 1; start <= 7; start++ {
		seen := map[[3]int]bool{}
		first := [3]int{}
		for n := start; n < start+6; n++ {
			o := PairedOrder(n)
			if seen[o] {
				t.Errorf("rounds %d to %d: order %v twice", start, start+5, o)
			}
			seen[o] = true
			first[o[0]]++
			if got := [3]bool{slices.Contains(o[:], 0), slices.Contains(o[:], 1), slices.Contains(o[:], 2)}; got != [3]bool{true, true, true} {
				t.Errorf("round %d: %v is not an order of three", n, o)
			}
		}
		if first != [3]int{2, 2, 2} {
			t.Errorf("rounds %d to %d: first places %v, want 2 each", start, start+5, first)
		}
	}
}

func TestSplitInterleaved(t *testing.T) {
	turns, rounds := SplitInterleaved(StandardSuite)
	var got []string
	for _, st := range rounds {
		got = append(got, st.Label)
	}
	// The large transfers that compare servers closely run in rounds; the
	// rest, rftpd's own rows among them, in each server's turn.
	want := []string{"large-get 1", "large-get 4", "large-get 1 beside 300 idle", "large-put 1", "large-get 1 TLS"}
	if !slices.Equal(got, want) {
		t.Errorf("interleaved %q, want %q", got, want)
	}
	if len(turns)+len(rounds) != len(StandardSuite) || slices.ContainsFunc(turns, func(s Step) bool { return s.Interleave }) {
		t.Errorf("%d in turns and %d in rounds of %d steps", len(turns), len(rounds), len(StandardSuite))
	}
	for _, st := range rounds {
		if st.RftpdOnly() {
			t.Errorf("%s runs against rftpd alone: nothing to interleave", st.Label)
		}
	}
}

// A round gets the step's duration over the rounds of a run, but no less
// than two seconds unless the step itself is shorter.
func TestRoundStep(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		rounds int
		want   time.Duration
	}{
		{20 * time.Second, 4, 5 * time.Second},
		{20 * time.Second, 1, 20 * time.Second},
		{20 * time.Second, 0, 20 * time.Second},
		{20 * time.Second, 20, 2 * time.Second},
		{time.Second, 4, time.Second},
		{3 * time.Second, 2, 2 * time.Second},
	} {
		st := RoundStep(Step{Label: "large-get 1", Duration: c.d, Interleave: true}, c.rounds)
		if st.Duration != c.want || st.Label != "large-get 1" || !st.Interleave {
			t.Errorf("%v in %d rounds: %+v, want %v each", c.d, c.rounds, st, c.want)
		}
	}
}
