// Latency histogram: log-linear buckets (under 0.8 % relative error), safe for concurrent use.
package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram buckets: values below 2^histSubBits+1 are exact; above, each
// power of two is split into 2^histSubBits buckets.
const (
	histSubBits  = 7
	histSub      = 1 << histSubBits // 128 buckets per power of two
	histExact    = 2 * histSub      // values 0..255 have a bucket each
	histMaxMSB   = 62
	histBuckets  = histExact + (histMaxMSB-histSubBits)*histSub
	histMaxValue = int64(math.MaxInt64)
)

// Histogram counts non-negative values (nanoseconds, or bytes per second) in
// log-linear buckets. Record may be called from any goroutine.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	min    atomic.Int64 // valid when n > 0
	max    atomic.Int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.min.Store(histMaxValue)
	return h
}

// bucketOf returns the bucket index of v (v ≥ 0).
func bucketOf(v int64) int {
	if v < histExact {
		return int(v)
	}
	msb := bits.Len64(uint64(v)) - 1 // ≥ histSubBits+1
	shift := msb - histSubBits
	sub := int(uint64(v)>>shift) - histSub // 0..histSub-1
	return histExact + (msb-histSubBits-1)*histSub + sub
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (lo, width int64) {
	if i < histExact {
		return int64(i), 1
	}
	j := i - histExact
	msb := j/histSub + histSubBits + 1
	sub := j % histSub
	shift := msb - histSubBits
	return int64(histSub+sub) << shift, int64(1) << shift
}

// Record adds one value; negative values count as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.min.Load()
		if v >= m || h.min.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// RecordDuration adds d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Merge adds every value of o into h. Neither may be recorded into meanwhile.
func (h *Histogram) Merge(o *Histogram) {
	if o.n.Load() == 0 {
		return
	}
	for i := range h.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if m := o.min.Load(); m < h.min.Load() {
		h.min.Store(m)
	}
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the middle of the
// bucket holding the ⌈q·n⌉-th smallest value, clamped to the exact minimum
// and maximum. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) int64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	minV, maxV := h.min.Load(), h.max.Load()
	if q <= 0 {
		return minV
	}
	if q >= 1 {
		return maxV
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, w := bucketRange(i)
			v := lo + (w-1)/2
			return min(max(v, minV), maxV)
		}
	}
	return maxV
}

// Summary is the digest of a histogram that reports carry.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	Min   int64   `json:"min"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

// Summary returns count, mean, min, p50, p90, p99, p99.9 and max.
func (h *Histogram) Summary() Summary {
	n := h.n.Load()
	if n == 0 {
		return Summary{}
	}
	return Summary{
		Count: n,
		Mean:  float64(h.sum.Load()) / float64(n),
		Min:   h.min.Load(),
		P50:   h.Quantile(0.50),
		P90:   h.Quantile(0.90),
		P99:   h.Quantile(0.99),
		P999:  h.Quantile(0.999),
		Max:   h.max.Load(),
	}
}
