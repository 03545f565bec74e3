// Tests of the suite definition, scaling, metrics, medians and the SVG chart.
package bench

import (
	"encoding/xml"
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
		total += s.Duration
	}
	if total < 3*time.Minute || total > 6*time.Minute {
		t.Errorf("suite measures for %v; want about 5 minutes with set-up", total)
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
		if s.Duration < time.Second || (s.Sessions != 0 && s.Sessions < 10) || s.Concurrency < 1 {
			t.Errorf("tiny step %+v", s)
		}
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
