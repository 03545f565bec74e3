// Tests of the latency histogram: buckets, quantiles against exact sorting, merging.
package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestBucketRoundTrip(t *testing.T) {
	vals := []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1 << 40, math.MaxInt64}
	for _, v := range vals {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		lo, w := bucketRange(i)
		if v < lo || v-lo >= w {
			t.Errorf("value %d in bucket %d = [%d, %d+%d)", v, i, lo, lo, w)
		}
		if v >= histExact && float64(w)/float64(lo) > 1.0/histSub+1e-12 {
			t.Errorf("bucket of %d is %d wide at %d: relative width over 1/%d", v, w, lo, histSub)
		}
	}
	// Buckets are contiguous and increasing.
	prevEnd := int64(0)
	for i := range histBuckets {
		lo, w := bucketRange(i)
		if lo != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevEnd)
		}
		prevEnd = lo + w
	}
}

func TestQuantileExactSmall(t *testing.T) {
	h := NewHistogram()
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	cases := []struct {
		q    float64
		want int64
	}{{0, 1}, {0.01, 1}, {0.5, 50}, {0.99, 99}, {0.999, 100}, {1, 100}}
	for _, c := range cases {
		if got := h.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
	s := h.Summary()
	if s.Count != 100 || s.Min != 1 || s.Max != 100 || s.Mean != 50.5 || s.P50 != 50 || s.P99 != 99 || s.P999 != 100 {
		t.Errorf("Summary = %+v", s)
	}
}

func TestQuantileMatchesSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []int64
	for range 200000 {
		// log-normal-ish latencies from 10 µs to seconds
		v := int64(math.Exp(rng.NormFloat64()*1.5 + 12))
		vals = append(vals, v)
		h.Record(v)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.01 {
			t.Errorf("q%v = %d, exact %d (%.2f%% off)", q, got, exact, rel*100)
		}
	}
	if h.Quantile(1) != vals[len(vals)-1] || h.Quantile(0) != vals[0] {
		t.Errorf("min/max %d/%d, want %d/%d", h.Quantile(0), h.Quantile(1), vals[0], vals[len(vals)-1])
	}
}

func TestHistogramEmptyNegativeMerge(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Summary() != (Summary{}) {
		t.Errorf("empty histogram: %d %+v", h.Quantile(0.5), h.Summary())
	}
	h.Record(-5)
	if h.Quantile(0.5) != 0 {
		t.Errorf("negative value recorded as %d, want 0", h.Quantile(0.5))
	}
	a, b := NewHistogram(), NewHistogram()
	for v := int64(1); v <= 50; v++ {
		a.Record(v)
		b.Record(v + 50)
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	if s := a.Summary(); s.Count != 100 || s.Min != 1 || s.Max != 100 || s.P50 != 50 {
		t.Errorf("merged summary %+v", s)
	}
}

func TestHistogramConcurrent(t *testing.T) {
	h := NewHistogram()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10000 {
				h.Record(int64(g*10000 + i))
			}
		})
	}
	wg.Wait()
	if s := h.Summary(); s.Count != 80000 || s.Min != 0 || s.Max != 79999 {
		t.Errorf("summary %+v", s)
	}
}
