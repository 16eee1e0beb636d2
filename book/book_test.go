package book

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// levels parses "price:size price:size ..." into levels, in the order given.
func levels(t testing.TB, s string) []model.Level {
	t.Helper()
	var out []model.Level
	for _, f := range strings.Fields(s) {
		p, sz, ok := strings.Cut(f, ":")
		if !ok {
			t.Fatalf("bad level %q", f)
		}
		out = append(out, model.Level{Price: dec(p), Size: dec(sz)})
	}
	return out
}

// render prints levels as "price:size ...", exact and without trailing zeros.
func render(lvs []model.Level) string {
	parts := make([]string, len(lvs))
	for i, lv := range lvs {
		parts[i] = lv.Price.String() + ":" + lv.Size.String()
	}
	return strings.Join(parts, " ")
}

func change(side model.Side, price, size string) model.Change {
	return model.Change{Side: side, Price: dec(price), Size: dec(size)}
}

// bookOf builds a book from a snapshot given best first.
func bookOf(t testing.TB, bids, asks string) *Book {
	t.Helper()
	b := New("BTC-USD")
	if err := b.ApplySnapshot(levels(t, bids), levels(t, asks)); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return b
}

// wantBook fails unless b holds exactly bids and asks (best first).
func wantBook(t testing.TB, b *Book, bids, asks string) {
	t.Helper()
	gotBids, gotAsks := b.Top(0, nil, nil)
	if g := render(gotBids); g != bids {
		t.Errorf("bids = %q, want %q", g, bids)
	}
	if g := render(gotAsks); g != asks {
		t.Errorf("asks = %q, want %q", g, asks)
	}
}

const (
	startBids = "100:1 99:2 98:3"
	startAsks = "101:1 102:2 103:3"
)

var applyCases = []struct {
	name       string
	change     model.Change
	err        error
	bids, asks string
}{
	{"size change at top", change(model.Buy, "100", "5"), nil, "100:5 99:2 98:3", startAsks},
	{"size change deep", change(model.Sell, "103", "0.5"), nil, startBids, "101:1 102:2 103:0.5"},
	{"size change other exponent", change(model.Buy, "99.000", "7"), nil, "100:1 99:7 98:3", startAsks},
	{"insert new best bid", change(model.Buy, "100.5", "1"), nil, "100.5:1 100:1 99:2 98:3", startAsks},
	{"insert new best ask", change(model.Sell, "100.01", "4"), nil, startBids, "100.01:4 101:1 102:2 103:3"},
	{"insert in gap", change(model.Buy, "98.5", "1"), nil, "100:1 99:2 98.5:1 98:3", startAsks},
	{"insert worst", change(model.Sell, "200", "1"), nil, startBids, "101:1 102:2 103:3 200:1"},
	{"remove best", change(model.Buy, "100", "0"), nil, "99:2 98:3", startAsks},
	{"remove middle", change(model.Sell, "102", "0.000"), nil, startBids, "101:1 103:3"},
	{"remove worst", change(model.Buy, "98", "0"), nil, "100:1 99:2", startAsks},
	{"bid at best ask crosses", change(model.Buy, "101", "1"), ErrCrossed, startBids, startAsks},
	{"bid above best ask crosses", change(model.Buy, "150", "1"), ErrCrossed, startBids, startAsks},
	{"ask at best bid crosses", change(model.Sell, "100.0", "1"), ErrCrossed, startBids, startAsks},
	{"ask below best bid crosses", change(model.Sell, "1", "1"), ErrCrossed, startBids, startAsks},
	{"remove unknown", change(model.Buy, "99.5", "0"), ErrUnknownLevel, startBids, startAsks},
	{"remove on wrong side", change(model.Sell, "100", "0"), ErrUnknownLevel, startBids, startAsks},
	{"negative size", change(model.Buy, "100", "-1"), ErrNegativeSize, startBids, startAsks},
	{"zero price", change(model.Buy, "0", "1"), ErrBadPrice, startBids, startAsks},
	{"negative price", change(model.Sell, "-101", "1"), ErrBadPrice, startBids, startAsks},
	{"zero side", model.Change{Price: dec("100"), Size: dec("1")}, ErrBadSide, startBids, startAsks},
	{"unknown side", model.Change{Side: 9, Price: dec("100"), Size: dec("1")}, ErrBadSide, startBids, startAsks},
}

func TestApply(t *testing.T) {
	for _, tc := range applyCases {
		t.Run(tc.name, func(t *testing.T) {
			b := bookOf(t, startBids, startAsks)
			err := b.Apply(tc.change)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("Apply = %v, want %v", err, tc.err)
			}
			wantBook(t, b, tc.bids, tc.asks)
		})
	}
}

func TestApplyEmptyBook(t *testing.T) {
	b := New("BTC-USD")
	steps := []struct {
		change     model.Change
		err        error
		bids, asks string
	}{
		{change(model.Sell, "10", "0"), ErrUnknownLevel, "", ""},
		{change(model.Sell, "10", "1"), nil, "", "10:1"},
		{change(model.Buy, "10", "1"), ErrCrossed, "", "10:1"},
		{change(model.Buy, "9", "2"), nil, "9:2", "10:1"},
		{change(model.Sell, "10", "0"), nil, "9:2", ""},
		{change(model.Buy, "50", "1"), nil, "50:1 9:2", ""},
	}
	for i, s := range steps {
		if err := b.Apply(s.change); !errors.Is(err, s.err) || (err == nil) != (s.err == nil) {
			t.Fatalf("step %d: Apply = %v, want %v", i, err, s.err)
		}
		wantBook(t, b, s.bids, s.asks)
	}
}

func TestApplySnapshot(t *testing.T) {
	cases := []struct {
		name, bids, asks string
		reason           error
	}{
		{"valid", "100:1 99:2", "101:1 102:2", nil},
		{"empty", "", "", nil},
		{"one side", "", "101:1", nil},
		{"zero price", "100:1 0:2", "101:1", ErrBadPrice},
		{"zero size", "100:1", "101:0", ErrBadSize},
		{"negative size", "100:-1", "101:1", ErrBadSize},
		{"bids ascending", "99:1 100:2", "101:1", ErrUnsorted},
		{"asks descending", "100:1", "102:1 101:2", ErrUnsorted},
		{"duplicate price", "100:1 100.00:2", "101:1", ErrUnsorted},
		{"crossed", "101:1", "101:1", ErrCrossed},
		{"crossed deep", "105:1 100:1", "101:1 102:1", ErrCrossed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := bookOf(t, "1:1", "2:1")
			err := b.ApplySnapshot(levels(t, tc.bids), levels(t, tc.asks))
			if tc.reason == nil {
				if err != nil {
					t.Fatalf("ApplySnapshot = %v", err)
				}
				wantBook(t, b, render(levels(t, tc.bids)), render(levels(t, tc.asks)))
				return
			}
			if !errors.Is(err, ErrBadSnapshot) || !errors.Is(err, tc.reason) {
				t.Fatalf("ApplySnapshot = %v, want %v and %v", err, ErrBadSnapshot, tc.reason)
			}
			wantBook(t, b, "1:1", "2:1")
		})
	}
}

func TestSnapshotCopiesInput(t *testing.T) {
	bids := levels(t, "100:1 99:2")
	b := New("BTC-USD")
	if err := b.ApplySnapshot(bids, nil); err != nil {
		t.Fatal(err)
	}
	bids[0].Size = dec("42")
	wantBook(t, b, "100:1 99:2", "")
}

func TestReaders(t *testing.T) {
	b := bookOf(t, "100:1 99:2 98:3", "101:4 102:5")
	if lv, ok := b.Best(model.Buy); !ok || render([]model.Level{lv}) != "100:1" {
		t.Errorf("Best(Buy) = %v %v", lv, ok)
	}
	if lv, ok := b.Best(model.Sell); !ok || render([]model.Level{lv}) != "101:4" {
		t.Errorf("Best(Sell) = %v %v", lv, ok)
	}
	if _, ok := b.Best(0); ok {
		t.Error("Best(0) ok")
	}
	if sz, ok := b.Size(model.Buy, dec("99.0")); !ok || sz.String() != "2" {
		t.Errorf("Size(Buy, 99) = %v %v", sz, ok)
	}
	if _, ok := b.Size(model.Sell, dec("99")); ok {
		t.Error("Size(Sell, 99) ok")
	}
	if b.Len(model.Buy) != 3 || b.Len(model.Sell) != 2 || b.Len(7) != 0 {
		t.Errorf("Len = %d %d %d", b.Len(model.Buy), b.Len(model.Sell), b.Len(7))
	}
	bids, asks := b.Top(2, levels(t, "1:1"), nil)
	if render(bids) != "1:1 100:1 99:2" || render(asks) != "101:4 102:5" {
		t.Errorf("Top(2) = %q %q", render(bids), render(asks))
	}
	var seen []model.Level
	b.Each(model.Buy, func(lv model.Level) bool {
		seen = append(seen, lv)
		return len(seen) < 2
	})
	if render(seen) != "100:1 99:2" {
		t.Errorf("Each stopped at %q", render(seen))
	}
}

func TestCloneAndReset(t *testing.T) {
	b := bookOf(t, "100:1 99:2", "101:1")
	c := b.Clone()
	if err := b.Apply(change(model.Buy, "99", "0")); err != nil {
		t.Fatal(err)
	}
	wantBook(t, c, "100:1 99:2", "101:1")
	b.Reset()
	wantBook(t, b, "", "")
	if err := c.Apply(change(model.Sell, "100.5", "1")); err != nil {
		t.Fatal(err)
	}
	wantBook(t, c, "100:1 99:2", "100.5:1 101:1")
	wantBook(t, b, "", "")
}

// A size change on a level the book holds must not allocate: it is most of
// the level-2 traffic.
func TestSizeChangeDoesNotAllocate(t *testing.T) {
	b := bookOf(t, "100.00:1 99.99:2 99.98:3", "100.01:1 100.02:2")
	changes := []model.Change{
		change(model.Buy, "100.00", "1.5"),
		change(model.Buy, "99.98", "0.25"),
		change(model.Sell, "100.02", "7"),
		change(model.Sell, "100.020", "7"), // another spelling of a held price
		change(model.Buy, "100", "2"),
	}
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range changes {
			if e := b.Apply(c); e != nil {
				err = e
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs != 0 {
		t.Errorf("size changes allocate %v times per run, want 0", allocs)
	}
}

func TestCmpPrice(t *testing.T) {
	values := []string{
		"0", "0.000", "1", "1.0", "-1", "-1.00", "100.5", "100.50", "100.49", "100.501", "-100.5", "-100.499",
		"99999999999999999.9", "999999999999999999", "1000000000000000000", "123456789012345678901234567890",
		"0.0000000000000000001", "0.00000000000000000001", "1e20", "1e-20", "12345678901234567e2",
	}
	for _, x := range values {
		for _, y := range values {
			a, b := dec(x), dec(y)
			if got, want := cmpPrice(a, b), a.Cmp(b); got != want {
				t.Errorf("cmpPrice(%s, %s) = %d, want %d", x, y, got, want)
			}
		}
	}
	a, b := dec("43210.5"), dec("43210.49")
	if n := testing.AllocsPerRun(100, func() { cmpPrice(a, b) }); n != 0 {
		t.Errorf("cmpPrice of different exponents allocates %v times", n)
	}
}
