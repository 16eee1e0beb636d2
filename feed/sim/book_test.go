package sim

import (
	"slices"
	"testing"

	"github.com/tickerfan/tickerfan/model"
)

func prices(s *simSide) []int64 {
	out := make([]int64, len(s.levels))
	for i, lv := range s.levels {
		out[i] = lv.price
	}
	return out
}

func TestSimSideOrder(t *testing.T) {
	tests := []struct {
		side model.Side
		want []int64 // best first
	}{
		{model.Buy, []int64{9, 7, 5, 3, 1}},
		{model.Sell, []int64{1, 3, 5, 7, 9}},
	}
	for _, tc := range tests {
		t.Run(tc.side.String(), func(t *testing.T) {
			s := &simSide{side: tc.side}
			for _, p := range []int64{5, 1, 9, 3, 7} {
				if !s.insert(simLevel{price: p, size: p * 10}) {
					t.Fatalf("insert %d failed", p)
				}
			}
			if s.insert(simLevel{price: 5, size: 1}) {
				t.Error("inserted a second level at 5")
			}
			if got := prices(s); !slices.Equal(got, tc.want) {
				t.Fatalf("levels %v, want %v", got, tc.want)
			}
			if best, _ := s.best(); best != tc.want[0] {
				t.Errorf("best %d, want %d", best, tc.want[0])
			}
			if worst, _ := s.worst(); worst != tc.want[4] {
				t.Errorf("worst %d, want %d", worst, tc.want[4])
			}
			if i, found := s.search(5); !found || i != 2 || s.levels[i].size != 50 {
				t.Errorf("search(5) = %d, %v", i, found)
			}
			if i, found := s.search(4); found || i != 2+boolInt(tc.side == model.Buy) {
				t.Errorf("search(4) = %d, %v", i, found)
			}
			if lv := s.removeAt(0); lv.price != tc.want[0] || s.len() != 4 {
				t.Errorf("removeAt(0) = %+v, %d left", lv, s.len())
			}
			if got := s.away(5, 2); got != 5-2*int64(1-2*boolInt(tc.side == model.Sell)) {
				t.Errorf("away(5, 2) = %d", got)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSimBookEmpty(t *testing.T) {
	b := newSimBook(3)
	if _, ok := b.bids.best(); ok {
		t.Error("empty side has a best")
	}
	if _, ok := b.asks.worst(); ok {
		t.Error("empty side has a worst")
	}
	if _, ok := b.spread(); ok {
		t.Error("empty book has a spread")
	}
	b.of(model.Buy).insert(simLevel{price: 10, size: 1})
	b.of(model.Sell).insert(simLevel{price: 13, size: 1})
	if s, ok := b.spread(); !ok || s != 3 {
		t.Errorf("spread %d, %v; want 3", s, ok)
	}
}
