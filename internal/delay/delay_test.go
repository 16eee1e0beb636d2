package delay

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	var h Histogram
	for _, ms := range []uint32{0, 1, 2, 50, 51, 10000, 20000} {
		h.ObserveMs(ms)
	}
	h.Observe(-time.Second) // a clock step back counts as no delay
	s := h.Snapshot()
	if s.Count != 8 {
		t.Fatalf("count %d, want 8", s.Count)
	}
	for bound, want := range map[float64]uint64{0.001: 3, 0.005: 4, 0.05: 5, 0.1: 6, 10: 7} {
		if got := s.Buckets[bound]; got != want {
			t.Errorf("bucket %gs: %d, want %d", bound, got, want)
		}
	}
	if want := float64(0+1+2+50+51+10000+20000) / 1000; s.Seconds != want {
		t.Errorf("sum %g s, want %g", s.Seconds, want)
	}
}

func BenchmarkObserve(b *testing.B) {
	var h Histogram
	for i := 0; b.Loop(); i++ {
		h.ObserveMs(uint32(i & 1023))
	}
}
