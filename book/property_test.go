package book

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// refBook is the obvious reference book: a map per side from price in integer
// ticks to size in integer lots, sorted only when read.
type refBook struct {
	bids, asks map[int64]int64
}

func newRefBook() *refBook {
	return &refBook{bids: map[int64]int64{}, asks: map[int64]int64{}}
}

// apply applies a change given in ticks and lots with Book.Apply's rules.
func (m *refBook) apply(side model.Side, price, size int64) error {
	var own map[int64]int64
	switch side {
	case model.Buy:
		own = m.bids
	case model.Sell:
		own = m.asks
	default:
		return ErrBadSide
	}
	switch {
	case price <= 0:
		return ErrBadPrice
	case size < 0:
		return ErrNegativeSize
	}
	_, held := own[price]
	switch {
	case size == 0 && !held:
		return ErrUnknownLevel
	case size == 0:
		delete(own, price)
		return nil
	case !held && side == model.Buy && len(m.asks) > 0 && price >= slices.Min(keys(m.asks)):
		return ErrCrossed
	case !held && side == model.Sell && len(m.bids) > 0 && price <= slices.Max(keys(m.bids)):
		return ErrCrossed
	}
	own[price] = size
	return nil
}

func keys(m map[int64]int64) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// check fails unless b holds exactly the model's levels, with a tick of 0.01
// and a lot of 0.001. With checkInvariants it proves the two books equal.
func (m *refBook) check(t testing.TB, b *Book) {
	t.Helper()
	for _, sd := range []struct {
		name   string
		levels []model.Level
		want   map[int64]int64
	}{{"bids", b.bids.levels, m.bids}, {"asks", b.asks.levels, m.asks}} {
		if len(sd.levels) != len(sd.want) {
			t.Fatalf("%s: book holds %d levels, model %d", sd.name, len(sd.levels), len(sd.want))
		}
		for _, lv := range sd.levels {
			price, size := lv.Price.Shift(2).IntPart(), lv.Size.Shift(3).IntPart()
			if want, ok := sd.want[price]; !ok || want != size {
				t.Fatalf("%s: book holds %s:%s, model %d lots there (held %v)", sd.name, lv.Price, lv.Size, want, ok)
			}
		}
	}
}

// toChange makes the decimal change for ticks and lots, spelling the price
// with one of three exponents so that mixed representations of one price meet.
func toChange(side model.Side, price, size int64, spelling int) model.Change {
	p := decimal.New(price, -2)
	switch spelling % 3 {
	case 1:
		p = decimal.New(price*10, -3)
	case 2:
		if price%100 == 0 {
			p = decimal.New(price/100, 0)
		}
	}
	return model.Change{Side: side, Price: p, Size: decimal.New(size, -3)}
}

// checkInvariants fails unless each side is strictly ordered with the best at
// the end, sizes are above zero and the book is not crossed.
func checkInvariants(t testing.TB, b *Book) {
	t.Helper()
	for _, s := range []*side{&b.bids, &b.asks} {
		for i, lv := range s.levels {
			if lv.Size.Sign() <= 0 || lv.Price.Sign() <= 0 {
				t.Fatalf("level %s:%s not positive", lv.Price, lv.Size)
			}
			if i > 0 && !s.better(lv.Price, s.levels[i-1].Price) {
				t.Fatalf("asks=%v: %s not better than %s below it", s.asks, lv.Price, s.levels[i-1].Price)
			}
		}
	}
	bid, okb := b.Best(model.Buy)
	ask, oka := b.Best(model.Sell)
	if okb && oka && bid.Price.Cmp(ask.Price) >= 0 {
		t.Fatalf("crossed: bid %s >= ask %s", bid.Price, ask.Price)
	}
}

// TestApplyMatchesModel applies thousands of random changes, a fifth of them
// invalid, to a Book and to the model, and checks that both accept and reject
// the same changes and hold the same levels throughout.
func TestApplyMatchesModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			b, m := New("BTC-USD"), newRefBook()
			counts := map[error]int{}
			for step := range 5000 {
				side := model.Side(1 + rng.IntN(2))
				if rng.IntN(50) == 0 {
					side = model.Side(rng.IntN(4) * 3) // 0, 3, 6, 9: invalid
				}
				// Bids mostly below 100.00, asks mostly above: overlap makes crossings.
				price := 10000 + int64(rng.IntN(120)) - 60
				if side == model.Sell {
					price += 20
				}
				if rng.IntN(100) == 0 {
					price = -int64(rng.IntN(2))
				}
				size := int64(rng.IntN(2000))
				switch rng.IntN(10) {
				case 0, 1, 2:
					size = 0
				case 3:
					size = -size - 1
				}
				want := m.apply(side, price, size)
				got := b.Apply(toChange(side, price, size, rng.IntN(3)))
				counts[want]++
				if got != want {
					t.Fatalf("step %d: Apply(%v %d %d) = %v, model says %v", step, side, price, size, got, want)
				}
				checkInvariants(t, b)
				m.check(t, b)
			}
			for _, err := range []error{nil, ErrCrossed, ErrUnknownLevel, ErrNegativeSize, ErrBadPrice, ErrBadSide} {
				if counts[err] == 0 {
					t.Errorf("no change ended with %v: the generator misses a case", err)
				}
			}
		})
	}
}

// FuzzApply decodes bytes into changes, four bytes each, applies them to a
// Book and to the model, and checks that they agree, that the book stays
// sorted, uncrossed and positive, and that a rejected change leaves it as it
// was.
func FuzzApply(f *testing.F) {
	f.Add([]byte{1, 100, 5, 0, 2, 110, 5, 1, 1, 100, 0, 2})
	f.Add([]byte{1, 100, 5, 0, 2, 100, 5, 0, 2, 99, 1, 1, 1, 120, 3, 2})
	f.Add([]byte{0, 1, 1, 1, 3, 50, 250, 0, 1, 0, 4, 1, 2, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, m := New("BTC-USD"), newRefBook()
		for len(data) >= 4 {
			side := model.Side(data[0] % 4) // 0 and 3 are invalid
			price := int64(int8(data[1]))   // ticks; zero and negative are invalid
			size := int64(int8(data[2]))    // lots; zero removes, negative is invalid
			spelling := int(data[3])
			data = data[4:]

			before := b.Clone()
			want := m.apply(side, price, size)
			got := b.Apply(toChange(side, price, size, spelling))
			if !errors.Is(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("Apply(%v %d %d) = %v, model says %v", side, price, size, got, want)
			}
			checkInvariants(t, b)
			if got != nil {
				wb, wa := before.Top(0, nil, nil)
				wantBook(t, b, render(wb), render(wa))
			}
			m.check(t, b)
		}
	})
}
