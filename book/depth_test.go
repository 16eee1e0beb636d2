package book

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Issue 9, item 7: one update adding 100,000 far levels leaves the default
// book at max_levels per side, counts what it dropped, and publishes only the
// changes the book kept, so a consumer's copy stays exact and small.
func TestMarketDeepUpdateBounded(t *testing.T) {
	m, rec := newTestMarket(t, Config{}, "BTC-USD")
	bids, asks := benchSnapshot(50)
	m.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Bids: bids, Asks: asks})
	consumer := New("BTC-USD")
	for _, ev := range rec.take() {
		applyEvent(t, consumer, ev)
	}
	const far = 100_000
	changes := make([]model.Change, far)
	for i := range changes { // ever further below the book's worst bid
		changes[i] = model.Change{Side: model.Buy, Price: decimal.New(int64(far-i), -4), Size: decimal.New(1, 0)}
	}
	m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Changes: changes})

	b := m.Book("BTC-USD")
	if n := b.Len(model.Buy); n != defaultMaxLevels {
		t.Fatalf("book holds %d bids, want max_levels %d", n, defaultMaxLevels)
	}
	c := m.Counters()
	if dropped := c.LevelsTrimmed + c.BeyondDepth; dropped != far+50-defaultMaxLevels {
		t.Fatalf("trimmed %d + beyond depth %d = %d, want %d", c.LevelsTrimmed, c.BeyondDepth, dropped, far+50-defaultMaxLevels)
	}
	published := 0
	for _, ev := range rec.take() {
		published += len(ev.Changes)
		applyEvent(t, consumer, ev)
	}
	if published > 2*defaultMaxLevels {
		t.Fatalf("published %d changes for a book of %d levels", published, defaultMaxLevels)
	}
	gotB, gotA := consumer.Top(0, nil, nil)
	wantB, wantA := b.Top(0, nil, nil)
	if !levelsEqual(gotB, wantB) || !levelsEqual(gotA, wantA) {
		t.Fatalf("consumer holds %d/%d levels, the book %d/%d", len(gotB), len(gotA), len(wantB), len(wantA))
	}
}

func levelsEqual(a, b []model.Level) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Price.Equal(b[i].Price) || !a[i].Size.Equal(b[i].Size) {
			return false
		}
	}
	return true
}
