package book

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Benchmark books sit around 100.00 with a 0.01 tick, bids at or below 100.00
// and asks at or above 100.01, so a generated change can never cross.
const benchMid = 10000 // ticks of 0.01

// benchSnapshot returns a book of depth levels per side, best first, on every
// other tick from the touch outwards, leaving gaps for new levels.
func benchSnapshot(depth int) (bids, asks []model.Level) {
	for i := range int64(depth) {
		size := decimal.New(1000+i*37, -4)
		bids = append(bids, model.Level{Price: decimal.New(benchMid-2*i, -2), Size: size})
		asks = append(asks, model.Level{Price: decimal.New(benchMid+1+2*i, -2), Size: size})
	}
	return bids, asks
}

// benchChanges returns about n changes against the book of
// benchSnapshot(depth), in a realistic mix: 80% size changes and 10% each of
// new levels and removals, all mostly near the top (distance from the touch
// drawn from an exponential distribution with a mean of four levels), with the
// depth kept within five levels of its start. A closing run of changes
// restores the starting book, so the sequence can be applied over and over.
func benchChanges(depth, n int) []model.Change {
	rng := rand.New(rand.NewPCG(uint64(depth), uint64(n)))
	bids, asks := benchSnapshot(depth)
	start := New("BTC-USD")
	if err := start.ApplySnapshot(bids, asks); err != nil {
		panic(err)
	}
	b := start.Clone()
	out := make([]model.Change, 0, n+2*depth)
	for range n {
		sd := model.Side(1 + rng.IntN(2))
		s := b.sideOf(sd)
		k := min(int(rng.ExpFloat64()*4), len(s.levels)-1)
		near := s.levels[len(s.levels)-1-k].Price
		size := decimal.New(int64(1+rng.IntN(99999)), -4)
		r := rng.IntN(10)
		switch {
		case r == 0 && len(s.levels) < depth-5, r == 1 && len(s.levels) <= depth+5:
			out = append(out, model.Change{Side: sd, Price: freeTick(b, sd, int64(k)), Size: size})
		case r < 2:
			out = append(out, model.Change{Side: sd, Price: near, Size: decimal.Zero})
		default:
			out = append(out, model.Change{Side: sd, Price: near, Size: size})
		}
		if err := b.Apply(out[len(out)-1]); err != nil {
			panic(err)
		}
	}
	return append(out, restore(b, start)...)
}

// freeTick returns the first price not held on sd, going outwards from the
// touch (100.00 for bids, 100.01 for asks) after skipping about k ticks.
func freeTick(b *Book, sd model.Side, k int64) decimal.Decimal {
	for ; ; k++ {
		p := decimal.New(benchMid-k, -2)
		if sd == model.Sell {
			p = decimal.New(benchMid+1+k, -2)
		}
		if _, held := b.Size(sd, p); !held {
			return p
		}
	}
}

// restore returns the changes that turn b back into start, applying them to b.
func restore(b, start *Book) []model.Change {
	var out []model.Change
	for _, sd := range []model.Side{model.Buy, model.Sell} {
		b.Each(sd, func(lv model.Level) bool {
			if _, ok := start.Size(sd, lv.Price); !ok {
				out = append(out, model.Change{Side: sd, Price: lv.Price, Size: decimal.Zero})
			}
			return true
		})
	}
	for _, sd := range []model.Side{model.Buy, model.Sell} {
		start.Each(sd, func(lv model.Level) bool {
			out = append(out, model.Change{Side: sd, Price: lv.Price, Size: lv.Size})
			return true
		})
	}
	for _, c := range out {
		if err := b.Apply(c); err != nil {
			panic(err)
		}
	}
	return out
}

// BenchmarkApply applies level-2 changes to a book; one op is one change.
func BenchmarkApply(b *testing.B) {
	for _, depth := range []int{50, 1000} {
		b.Run(depthName(depth), func(b *testing.B) {
			changes := benchChanges(depth, 100_000)
			bk := New("BTC-USD")
			if err := bk.ApplySnapshot(benchSnapshot(depth)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := bk.Apply(changes[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(changes) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// BenchmarkApplySnapshot replaces a 50-level book.
func BenchmarkApplySnapshot(b *testing.B) {
	bids, asks := benchSnapshot(50)
	bk := New("BTC-USD")
	b.ReportAllocs()
	for b.Loop() {
		if err := bk.ApplySnapshot(bids, asks); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTop copies the top of a 50-level book into reused slices.
func BenchmarkTop(b *testing.B) {
	for _, n := range []int{10, 0} {
		b.Run(depthName(n), func(b *testing.B) {
			bk := New("BTC-USD")
			if err := bk.ApplySnapshot(benchSnapshot(50)); err != nil {
				b.Fatal(err)
			}
			bids, asks := make([]model.Level, 0, 50), make([]model.Level, 0, 50)
			b.ReportAllocs()
			for b.Loop() {
				bids, asks = bk.Top(n, bids[:0], asks[:0])
			}
			if len(bids) == 0 || len(asks) == 0 {
				b.Fatal("empty top")
			}
		})
	}
}

// BenchmarkMarketApply applies level-2 updates of ten changes each through a
// Market onto a 50-level book; one op is one update.
func BenchmarkMarketApply(b *testing.B) {
	for _, maxLevels := range []int{0, 40} {
		b.Run("max_levels="+depthName(maxLevels), func(b *testing.B) {
			const perUpdate = 10
			changes := benchChanges(50, 100_000)
			var updates []model.Update
			for i := 0; i < len(changes); i += perUpdate {
				updates = append(updates, model.Update{Kind: model.KindChanges, Product: "BTC-USD",
					Changes: changes[i:min(i+perUpdate, len(changes))]})
			}
			events := 0
			m, err := NewMarket(Config{MaxLevels: maxLevels}, []model.Product{{ID: "BTC-USD"}},
				func(Event) { events++ }, nil)
			if err != nil {
				b.Fatal(err)
			}
			bids, asks := benchSnapshot(50)
			m.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Bids: bids, Asks: asks})
			before := m.Counters().ChangesApplied
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Apply(updates[i])
				if i++; i == len(updates) {
					i = 0
				}
			}
			c := m.Counters()
			b.ReportMetric(float64(c.ChangesApplied-before)/b.Elapsed().Seconds(), "changes/s")
			if rejected := c.RejectedCrossed + c.RejectedUnknownLevel + c.RejectedNegativeSize; rejected != 0 || events == 0 {
				b.Fatalf("%d changes rejected, %d events", rejected, events)
			}
		})
	}
}

func depthName(n int) string {
	if n == 0 {
		return "all"
	}
	return itoa(int64(n))
}
