// Tests of scenario logic without a server: names, defaults, the mix, the worker loop's bounds and error counting.
package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseScenarios(t *testing.T) {
	all, err := ParseScenarios("all")
	if err != nil || len(all) != 10 || all[0].Name != "idle" || all[8].Name != "mixed" || all[9].Name != "slow-get" {
		t.Fatalf("all: %d scenarios, %v", len(all), err)
	}
	two, err := ParseScenarios(" small-get, list ,")
	if err != nil || len(two) != 2 || two[0].Name != "small-get" || two[1].Name != "list" {
		t.Errorf("two: %v %v", two, err)
	}
	if _, err := ParseScenarios("small-get,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "large-put") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := ParseScenarios(" , "); err == nil {
		t.Error("empty list accepted")
	}
	for _, s := range Scenarios() {
		if s.Run == nil || s.Doc == "" {
			t.Errorf("scenario %s has no Run or Doc", s.Name)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	tg, _ := ParseTarget("ftp://127.0.0.1:2121/")
	c := Config{Target: tg}.withDefaults()
	if c.Concurrency != 8 || c.Duration != 10*time.Second || c.PutTarget != tg || c.Layout != DefaultLayout || c.Timeout != 30*time.Second || c.Log == nil {
		t.Errorf("defaults: %+v", c)
	}
	c = Config{Target: tg, Count: 100}.withDefaults()
	if c.Duration != MaxDuration {
		t.Errorf("count alone: duration %v, want the bound %v", c.Duration, MaxDuration)
	}
	c = Config{Target: tg, Duration: 10 * time.Hour}.withDefaults()
	if c.Duration != MaxDuration {
		t.Errorf("duration %v not bounded", c.Duration)
	}
}

func TestMixedWeightsAndSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var counts [mixKinds]int
	const n = 100000
	for range n {
		counts[pickMixed(rng)]++
	}
	for k, w := range mixWeights {
		got := float64(counts[k]) / n * 1000
		if got < float64(w)-10 || got > float64(w)+10 {
			t.Errorf("%s drawn %.0f‰, want %d‰", mixNames[k], got, w)
		}
	}
	var small, mid, big int
	for f := range 20 {
		switch MixedSize(f) {
		case 1 << 10:
			small++
		case 64 << 10:
			mid++
		case 1 << 20:
			big++
		}
	}
	if small != 12 || mid != 6 || big != 2 {
		t.Errorf("20 mixed files: %d of 1 KiB, %d of 64 KiB, %d of 1 MiB", small, mid, big)
	}
}

func TestLayoutOfDataset(t *testing.T) {
	if l := DefaultDataset.Layout(); l != DefaultLayout {
		t.Errorf("DefaultDataset.Layout() = %+v, want %+v", l, DefaultLayout)
	}
	d := DefaultDataset
	d.LargeSize = 16 << 20
	if l := d.Layout(); l.LargeFile != "large/16MiB.bin" {
		t.Errorf("16 MiB file named %q", l.LargeFile)
	}
	d.LargeSize = 1000
	if l := d.Layout(); l.LargeFile != "large/1000B.bin" {
		t.Errorf("1000 B file named %q", l.LargeFile)
	}
}

func testConfig(t *testing.T) Config {
	tg, _ := ParseTarget("ftp://127.0.0.1:9/")
	return Config{Target: tg, Concurrency: 4, Duration: 200 * time.Millisecond}.withDefaults()
}

func TestRunJobStopsAtCount(t *testing.T) {
	cfg := testConfig(t)
	cfg.Count = 37
	cfg.Duration = 10 * time.Second
	var calls atomic.Int64
	start := time.Now()
	r := runJob(context.Background(), cfg, job{name: "t", unit: "ops", target: cfg.Target,
		op: func(ctx context.Context, w *worker) (int64, error) {
			calls.Add(1)
			return 10, nil
		}})
	if calls.Load() != 37 || r.Ops != 37 || r.Bytes != 370 || r.Errors != 0 {
		t.Errorf("calls %d, result %+v", calls.Load(), r)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("count-bound run took %v", time.Since(start))
	}
	if r.Latency.Count != 37 || r.OpsPerSec <= 0 {
		t.Errorf("latency %+v, rate %v", r.Latency, r.OpsPerSec)
	}
}

func TestRunJobStopsAtDuration(t *testing.T) {
	cfg := testConfig(t)
	start := time.Now()
	r := runJob(context.Background(), cfg, job{name: "t", unit: "ops", target: cfg.Target,
		op: func(ctx context.Context, w *worker) (int64, error) {
			time.Sleep(time.Millisecond)
			return 0, nil
		}})
	el := time.Since(start)
	if el < 200*time.Millisecond || el > 3*time.Second {
		t.Errorf("200ms run took %v", el)
	}
	if r.Ops < 20 || r.Seconds < 0.2 {
		t.Errorf("result %+v", r)
	}
}

func TestRunJobCountsErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.Count = 100
	r := runJob(context.Background(), cfg, job{name: "t", unit: "ops", target: cfg.Target,
		op: func(ctx context.Context, w *worker) (int64, error) {
			if w.seq%4 == 0 {
				return 0, &ReplyError{"RETR", 550, "No such file."}
			}
			return 1, nil
		}})
	if r.Ops+r.Errors != 100 || r.Errors == 0 || r.ErrorKinds["RETR: 550 No such file."] != r.Errors {
		t.Errorf("ops %d errors %d kinds %v", r.Ops, r.Errors, r.ErrorKinds)
	}
	var b strings.Builder
	WriteTable(&b, []*Result{r})
	if !strings.Contains(b.String(), "× RETR: 550 No such file.") {
		t.Errorf("table does not show the errors:\n%s", b.String())
	}
}

func TestRunJobCancelled(t *testing.T) {
	cfg := testConfig(t)
	cfg.Duration = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := runJob(ctx, cfg, job{name: "t", unit: "ops", target: cfg.Target,
		op: func(ctx context.Context, w *worker) (int64, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Millisecond):
				return 0, nil
			}
		}})
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancelled run took %v", time.Since(start))
	}
	if r.Errors != 0 {
		t.Errorf("cancellation counted as %d errors", r.Errors)
	}
}

func TestRunJobUnreachableServer(t *testing.T) {
	cfg := testConfig(t) // port 9 on loopback: refused
	cfg.Timeout = time.Second
	r := runJob(context.Background(), cfg, job{name: "t", unit: "ops", target: cfg.Target, session: true,
		op: func(ctx context.Context, w *worker) (int64, error) { return 0, nil }})
	if r.Ops != 0 || r.Errors == 0 {
		t.Errorf("ops %d errors %d", r.Ops, r.Errors)
	}
	for k := range r.ErrorKinds {
		if !strings.Contains(k, "refused") {
			t.Errorf("error kind %q", k)
		}
	}
}

func TestFileLimitError(t *testing.T) {
	e := &FileLimitError{Need: 25064, Soft: 20000, Hard: 20000, Sessions: 25000}
	msg := e.Error()
	for _, want := range []string{"25000 sessions", "20000", "at most 19936 sessions", "RLIMIT_NOFILE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	soft, _, err := RaiseFileLimit()
	if err != nil {
		t.Skip(err)
	}
	err = checkFiles(testConfig(t), int(soft))
	if fe := new(FileLimitError); !errors.As(err, &fe) || fe.Soft != soft {
		t.Errorf("checkFiles(%d sessions) = %v", soft, err)
	}
	if err := checkFiles(testConfig(t), 10); err != nil {
		t.Errorf("checkFiles(10) = %v", err)
	}
}

func TestFormats(t *testing.T) {
	cases := map[string]string{
		FormatBytes(0): "0 B", FormatBytes(4096): "4.00 KiB", FormatBytes(1.5 * (1 << 30)): "1.50 GiB",
		FormatBytes(700 << 20): "700 MiB", FormatRate(12345.6): "12,346", FormatRate(5.5): "5.50",
		FormatLatency(0): "-", FormatLatency(850_000): "850µs", FormatLatency(4_500_000): "4.50ms",
		FormatLatency(2_500_000_000): "2.50s", group(1234567): "1,234,567",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	p := FormatProgress(Progress{Scenario: "small-get", Elapsed: 5 * time.Second, Duration: 30 * time.Second, Ops: 5000, Bytes: 5 << 20})
	if !strings.Contains(p, "5s/30s") || !strings.Contains(p, "1,000/s") || !strings.Contains(p, "errors 0") {
		t.Errorf("progress line %q", p)
	}
}

func TestRunJobPaced(t *testing.T) {
	cfg := testConfig(t)
	cfg.Duration = 500 * time.Millisecond
	cfg.Rate = 200
	r := runJob(context.Background(), cfg, job{name: "t", unit: "ops", target: cfg.Target,
		op: func(ctx context.Context, w *worker) (int64, error) { return 0, nil }})
	if r.Ops < 70 || r.Ops > 110 {
		t.Errorf("%d ops in 0.5s at 200/s", r.Ops)
	}
}

func TestHashScenario(t *testing.T) {
	all, _ := ParseScenarios("all")
	for _, s := range all {
		if s.Name == "hash" {
			t.Fatal("all runs hash, which peers do not serve")
		}
	}
	if s, err := ParseScenarios("hash"); err != nil || len(s) != 1 || s[0].Run == nil {
		t.Fatalf("hash: %v %v", s, err)
	}
	for _, c := range []struct {
		msg  string
		algo string
		n    int64
		ok   bool
	}{
		{"SHA-256 0-99 ab f", "SHA-256", 100, true},
		{"MD5 0-0 ab empty file", "MD5", 1, true},
		{"SHA-256 5-4 ab f", "", 0, false},
		{"SHA-256 ab", "", 0, false},
	} {
		a, n, err := hashReplyBytes(c.msg)
		if (err == nil) != c.ok || a != c.algo || n != c.n {
			t.Errorf("%q: %q %d %v", c.msg, a, n, err)
		}
	}
}
