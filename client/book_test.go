package client

import (
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

func mustDecode[T Message](t *testing.T, s string) T {
	t.Helper()
	m, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("Decode %s: %v", s, err)
	}
	return m.(T)
}

func sides(b *Book) (bids, asks []string) {
	for _, l := range b.Bids() {
		bids = append(bids, l.PriceText()+"@"+l.SizeText())
	}
	for _, l := range b.Asks() {
		asks = append(asks, l.PriceText()+"@"+l.SizeText())
	}
	return bids, asks
}

var applyCases = []struct {
	name       string
	update     string
	err        error
	bids, asks []string
}{
	{"insert in order", `{"type":"l2update","product_id":"X","changes":[["buy","10.05","1.0"],["sell","10.15","2.0"],["buy","9.95","3"]],"sequence":8}`, nil,
		[]string{"10.10@1.5", "10.05@1.0", "10.00@2.0", "9.95@3"}, []string{"10.15@2.0", "10.20@1.0"}},
	{"replace and remove", `{"type":"l2update","product_id":"X","changes":[["buy","10.10","0.5"],["sell","10.20","0"]],"sequence":8}`, nil,
		[]string{"10.10@0.5", "10.00@2.0"}, nil},
	{"equal decimals are the same level", `{"type":"l2update","product_id":"X","changes":[["buy","10.1","0"]],"sequence":8}`, nil,
		[]string{"10.00@2.0"}, []string{"10.20@1.0"}},
	{"set then remove in one update", `{"type":"l2update","product_id":"X","changes":[["sell","10.30","4"],["sell","10.30","0.000"]],"sequence":8}`, nil,
		[]string{"10.10@1.5", "10.00@2.0"}, []string{"10.20@1.0"}},
	{"gap", `{"type":"l2update","product_id":"X","changes":[["buy","10.05","1"]],"sequence":9}`, errGap,
		[]string{"10.10@1.5", "10.00@2.0"}, []string{"10.20@1.0"}},
	{"unknown level", `{"type":"l2update","product_id":"X","changes":[["sell","10.25","0"]],"sequence":8}`, errUnknownLevel, nil, nil},
}

func TestBookApply(t *testing.T) {
	for _, tc := range applyCases {
		t.Run(tc.name, func(t *testing.T) {
			var b Book
			b.Reset(mustDecode[*Snapshot](t, `{"type":"snapshot","product_id":"X","bids":[["10.10","1.5"],["10.00","2.0"]],"asks":[["10.20","1.0"]],"sequence":7}`))
			err := b.Apply(mustDecode[*L2Update](t, tc.update))
			if !errors.Is(err, tc.err) {
				t.Fatalf("Apply: %v, want %v", err, tc.err)
			}
			if err != nil && tc.bids == nil {
				return
			}
			bids, asks := sides(&b)
			if !slices.Equal(bids, tc.bids) || !slices.Equal(asks, tc.asks) {
				t.Errorf("book %v / %v, want %v / %v", bids, asks, tc.bids, tc.asks)
			}
		})
	}
}

// The checksum is over the server's text: asks then bids, best first, '.'
// and leading zeros removed, ten levels a side.
func TestBookChecksum(t *testing.T) {
	var b Book
	b.Reset(mustDecode[*Snapshot](t, `{"type":"snapshot","product_id":"X","bids":[["0.05012","1.20000000"],["0.05011","0.50000000"]],"asks":[["0.05013","2.00000000"]],"sequence":9}`))
	want := crc32.ChecksumIEEE([]byte("5013200000000" + "5012120000000" + "501150000000"))
	if got := b.Checksum(); got != want {
		t.Errorf("Checksum %d, want %d", got, want)
	}
}

func BenchmarkBookApply(b *testing.B) {
	var bk Book
	bk.Reset(mustDecode[*Snapshot](&testing.T{}, `{"type":"snapshot","product_id":"X","bids":[["10.10","1.5"],["10.00","2.0"]],"asks":[["10.20","1.0"]],"sequence":7}`))
	u := mustDecode[*L2Update](&testing.T{}, `{"type":"l2update","product_id":"X","changes":[["buy","10.05","1.0"],["buy","10.05","0"]],"sequence":8}`)
	b.ReportAllocs()
	for b.Loop() {
		u.Sequence = bk.Sequence + 1
		if err := bk.Apply(u); err != nil {
			b.Fatal(err)
		}
	}
}
