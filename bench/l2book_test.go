package bench

import (
	"maps"
	"slices"
	"testing"
)

// l2BookCases drive TestL2Book and BenchmarkL2Book: messages applied in
// order to one book, and the book they leave.
var l2BookCases = []struct {
	name       string
	msgs       []string // "S:" snapshot, "U:" l2update
	bids, asks map[string]string
	broken     string
}{
	{"snapshot then updates", []string{
		`S:{"type":"snapshot","product_id":"X","bids":[["100.00","1.50"],["99.99","2"]],"asks":[["100.01","0.10000000"]],"sequence":7}`,
		`U:{"type":"l2update","product_id":"X","changes":[["buy","100.00","0.00000000"],["sell","100.02","3.25"]],"time":"2026-01-01T00:00:00Z","sequence":8}`,
		`U:{"type":"l2update","product_id":"X","changes":[["sell","100.010","0.2"]],"sequence":9}`,
	}, map[string]string{"99.99": "2"}, map[string]string{"100.01": "0.2", "100.02": "3.25"}, ""},
	{"a snapshot replaces the book", []string{
		`S:{"type":"snapshot","bids":[["1","1"]],"asks":[["2","1"]]}`,
		`U:{"type":"l2update","changes":[["buy","0.5","4"]]}`,
		`S:{"type":"snapshot","bids":[],"asks":[["3", "1"]]}`,
	}, map[string]string{}, map[string]string{"3": "1"}, ""},
	{"update before snapshot", []string{`U:{"type":"l2update","changes":[["buy","1","1"]]}`},
		map[string]string{}, map[string]string{}, errL2BeforeSnap.Error()},
	{"bad side", []string{`S:{"bids":[],"asks":[]}`, `U:{"changes":[["bid","1","1"]]}`},
		map[string]string{}, map[string]string{}, errL2Side.Error()},
	{"size not a decimal", []string{`S:{"bids":[["1","x"]],"asks":[]}`},
		map[string]string{}, map[string]string{}, errL2Decimal.Error()},
	{"level of two in an update", []string{`S:{"bids":[],"asks":[]}`, `U:{"changes":[["1","1"]]}`},
		map[string]string{}, map[string]string{}, errL2LevelsFormat.Error()},
	{"level not strings", []string{`S:{"bids":[[1,2]],"asks":[]}`},
		map[string]string{}, map[string]string{}, errL2LevelsFormat.Error()},
	{"a snapshot mends a broken book", []string{`U:{"changes":[]}`, `S:{"bids":[["5","1"]],"asks":[]}`},
		map[string]string{"5": "1"}, map[string]string{}, ""},
}

func applyAll(b *l2Book, msgs []string, in *interner) {
	for _, m := range msgs {
		b.apply(m[0] == 'S', []byte(m[2:]), in)
	}
}

func TestL2Book(t *testing.T) {
	for _, tc := range l2BookCases {
		t.Run(tc.name, func(t *testing.T) {
			var b l2Book
			var in interner
			applyAll(&b, tc.msgs, &in)
			if b.broken != tc.broken {
				t.Fatalf("broken %q, want %q", b.broken, tc.broken)
			}
			if tc.broken == "" && (!maps.Equal(b.sides[0].toMap(), tc.bids) || !maps.Equal(b.sides[1].toMap(), tc.asks)) {
				t.Fatalf("book %v; want bids %v asks %v", b.sides, tc.bids, tc.asks)
			}
		})
	}
}

func TestL2BookDepth(t *testing.T) {
	var b l2Book
	var in interner
	b.apply(true, []byte(`{"bids":[["3","1"],["2","1"],["1","1"]],"asks":[["4","1"]]}`), &in)
	b.apply(false, []byte(`{"changes":[["sell","5","1"]]}`), &in)
	if b.depth != [2]int{3, 1} {
		t.Fatalf("depth %v, want the snapshot's [3 1]", b.depth)
	}
}

// BenchmarkL2Book is the cost a level2 message adds to the reader's hot path.
func BenchmarkL2Book(b *testing.B) {
	snap := []byte(`{"type":"snapshot","product_id":"T001-USD","bids":[["100.99","0.12345678"],["100.98","1.00000000"]],"asks":[["101.01","0.50000000"]],"sequence":1}`)
	upd := []byte(`{"type":"l2update","product_id":"T001-USD","changes":[["buy","100.99","0.22345678"]],"time":"2026-11-21T12:00:00.123456Z","sequence":2}`)
	var book l2Book
	var in interner
	book.apply(true, snap, &in)
	b.ReportAllocs()
	for b.Loop() {
		book.apply(false, upd, &in)
	}
}

// FuzzL2Book feeds arbitrary messages to a book: it must not panic, and
// whatever it holds is canonical with no empty level.
func FuzzL2Book(f *testing.F) {
	for _, tc := range l2BookCases {
		for _, m := range tc.msgs {
			f.Add(m[0] == 'S', m[2:])
		}
	}
	f.Fuzz(func(t *testing.T, snapshot bool, msg string) {
		var b l2Book
		var in interner
		b.apply(true, []byte(`{"bids":[["1","1"]],"asks":[["2","1"]]}`), &in)
		b.apply(snapshot, []byte(msg), &in)
		if b.broken != "" {
			return
		}
		for _, side := range b.sides {
			for i, lv := range side {
				cp, _ := appendCanonical(nil, []byte(lv.price))
				cs, _ := appendCanonical(nil, []byte(lv.size))
				if string(cp) != lv.price || string(cs) != lv.size || lv.size == "0" {
					t.Fatalf("level %q: %q after %q", lv.price, lv.size, msg)
				}
				if i > 0 && cmpCanonical(side[i-1].price, lv.price) >= 0 {
					t.Fatalf("levels %v out of order after %q", side, msg)
				}
			}
		}
	})
}

// toMap returns the side as price -> size.
func (s l2Side) toMap() map[string]string {
	m := map[string]string{}
	for _, lv := range s {
		m[lv.price] = lv.size
	}
	return m
}

func TestCmpCanonical(t *testing.T) {
	ordered := []string{"-100.5", "-100", "-99.99", "-1", "-0.5", "0", "0.001", "0.01", "0.1", "0.5", "1", "1.25", "1.5", "9.99", "10", "99.99", "100", "100.01", "1000"}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := cmpCanonical(a, b); got != want {
				t.Errorf("cmpCanonical(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestL2SideKeepsOrder(t *testing.T) {
	var s l2Side
	for _, p := range []string{"100.02", "99.5", "100", "101", "100.1"} {
		s.set(p, "1")
	}
	s.set("100", "2")
	s.set("99.5", "0")
	s.set("7", "0") // not there: nothing to remove
	want := l2Side{{"100", "2"}, {"100.02", "1"}, {"100.1", "1"}, {"101", "1"}}
	if !slices.Equal(s, want) {
		t.Fatalf("side %v, want %v", s, want)
	}
}
