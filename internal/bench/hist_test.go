package bench

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 - 1} {
		i := bucketOf(v)
		if i < prev {
			t.Errorf("bucketOf(%d) = %d, below the previous %d", v, i, prev)
		}
		prev = i
		low, width := bucketRange(i)
		if v < low || v >= low+width {
			t.Errorf("%d is outside its bucket %d: [%d, %d)", v, i, low, low+width)
		}
		if v >= subCount && float64(width)/float64(low) > 1.0/subCount {
			t.Errorf("bucket %d of %d is %d wide", i, low, width)
		}
	}
	// Contiguous: each bucket starts where the one before ends.
	for i := 1; i < nBuckets; i++ {
		low, _ := bucketRange(i)
		pl, pw := bucketRange(i - 1)
		if low != pl+pw {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, low, pl+pw)
		}
	}
	if i := bucketOf(1 << 50); i != nBuckets-1 {
		t.Errorf("bucketOf(2^50) = %d, want the last, %d", i, nBuckets-1)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	// 1 to 100,000 µs, shuffled.
	var h Histogram
	vals := make([]time.Duration, 100_000)
	for i := range vals {
		vals[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		h.Record(v)
	}
	if n := h.Count(); n != 100_000 {
		t.Fatalf("Count = %d", n)
	}
	if m := h.Max(); m != 100*time.Millisecond {
		t.Errorf("Max = %v, want 100ms", m)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := time.Duration(q * 100_000 * float64(time.Microsecond))
		got := h.Quantile(q)
		if err := float64(got-want) / float64(want); err > 1.0/64 || err < -1.0/64 {
			t.Errorf("Quantile(%g) = %v, want %v within 1/64 (off by %.2f%%)", q, got, want, 100*err)
		}
	}
	if got := h.Quantile(1); got != 100*time.Millisecond {
		t.Errorf("Quantile(1) = %v, want the max", got)
	}
	if got, want := h.Quantile(0), time.Microsecond; got < want*63/64 || got > want*65/64 {
		t.Errorf("Quantile(0) = %v, want about %v", got, want)
	}
}

func TestHistogramSmall(t *testing.T) {
	tests := []struct {
		name string
		vals []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{7}, 0.99, 7},
		{"exact below 32ns", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.5, 5},
		{"negative counts as zero", []time.Duration{-5}, 0.5, 0},
		{"p99 of 99 fast and 1 slow", append(repeat(time.Millisecond, 99), time.Second), 0.99, time.Millisecond},
		{"p99 of 98 fast and 2 slow", append(repeat(time.Millisecond, 98), time.Second, time.Second), 0.99, time.Second},
		{"beyond the range", []time.Duration{time.Hour}, 0.5, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.vals {
				h.Record(v)
			}
			got := h.Quantile(tt.q)
			if d := got - tt.want; d > tt.want/64 || d < -tt.want/64 {
				t.Errorf("Quantile(%g) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = d
	}
	return s
}

func TestHistogramMergeConcurrent(t *testing.T) {
	var a, b Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			h := &a
			if g%2 == 1 {
				h = &b
			}
			for i := range 1000 {
				h.Record(time.Duration(g*1000+i) * time.Microsecond)
			}
		})
	}
	wg.Wait()
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	if n := m.Count(); n != 4000 {
		t.Errorf("Count = %d, want 4000", n)
	}
	if got := m.Max(); got != 3999*time.Microsecond {
		t.Errorf("Max = %v", got)
	}
	if got, want := m.Quantile(0.5), 2*time.Millisecond; got < want*63/64 || got > want*65/64 {
		t.Errorf("median %v, want about %v", got, want)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * time.Microsecond)
	}
}
