package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// The histogram's buckets: values below 2^subBits nanoseconds each have
// their own; above, each power of two is split into 2^subBits buckets, so
// a bucket's width is at most 1/32 of its lower bound. Values of 2^maxBits
// nanoseconds (about 18 minutes) and more go in the last bucket.
const (
	subBits  = 5
	subCount = 1 << subBits
	maxBits  = 40
	nBuckets = (maxBits - subBits + 1) * subCount
)

// Histogram counts durations in logarithmic buckets, as HDR histograms do:
// a quantile it reports is within 1/64 of the true value (the middle of a
// bucket at most 1/32 wide), and the maximum is exact. It takes about 9
// KiB. It is safe for concurrent use; the zero value is empty.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	max    atomic.Int64
}

// bucketOf returns the bucket of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	i := (e+1)*subCount + int(v>>e) - subCount
	return min(i, nBuckets-1)
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	e := i/subCount - 1
	return uint64(i%subCount+subCount) << e, 1 << e
}

// Record counts d; a negative d counts as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucketOf(uint64(v))].Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if n := o.counts[i].Load(); n > 0 {
			h.counts[i].Add(n)
		}
	}
	for m := o.max.Load(); ; {
		cur := h.max.Load()
		if m <= cur || h.max.CompareAndSwap(cur, m) {
			return
		}
	}
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Max returns the largest value recorded, 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the value below which a fraction q of the values fall:
// the middle of the bucket that holds the ceil(q·n)-th smallest value, at
// most the maximum; the maximum itself for the largest value. It returns 0
// when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(min(max(q, 0), 1) * float64(n)))
	rank = max(rank, 1)
	if rank == n {
		return h.Max()
	}
	var seen uint64
	for i := range h.counts[:nBuckets-1] {
		seen += h.counts[i].Load()
		if seen >= rank {
			low, width := bucketRange(i)
			return min(time.Duration(low+width/2), h.Max())
		}
	}
	return h.Max() // in the last bucket, which has no upper bound
}
