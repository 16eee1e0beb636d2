package bench

import "fmt"

// BookMismatch is a subscriber's product book that is not the upstream's:
// the first level, best first, at which they differ, or why the book could
// not be compared.
type BookMismatch struct {
	Subscriber int    `json:"subscriber"` // its number in the run, from 0
	Product    string `json:"product"`
	// Problem is "size differs", "level missing", "extra level", or why the
	// book cannot be trusted ("no snapshot received", a message it could not
	// apply).
	Problem string `json:"problem"`
	Side    string `json:"side,omitempty"` // bids or asks
	Price   string `json:"price,omitempty"`
	Want    string `json:"want_size,omitempty"` // the upstream's size; "" when it has no such level
	Got     string `json:"got_size,omitempty"`  // the subscriber's; "" when it has no such level
	// Sequence is the last level2 sequence the subscriber received of the product.
	Sequence int64 `json:"sequence"`
}

// String describes the mismatch in one line.
func (m BookMismatch) String() string {
	s := fmt.Sprintf("subscriber %d %s: %s", m.Subscriber, m.Product, m.Problem)
	if m.Price != "" {
		s += fmt.Sprintf(" at %s %s: want %s, got %s", m.Side, m.Price, orNone(m.Want), orNone(m.Got))
	}
	return s + fmt.Sprintf(" (last sequence %d)", m.Sequence)
}

func orNone(size string) string {
	if size == "" {
		return "none"
	}
	return size
}

// bookDiff is the comparison of one product book.
type bookDiff struct {
	mismatch *BookMismatch // nil when exact
	capped   int           // > 0: compared only this many levels of a side
}

// diffBook compares a subscriber's book with the upstream's. Where the
// server's last snapshot had fewer levels on a side than the upstream's
// book, only that many of the best upstream levels are compared: the
// upstream never removes a level, so a server that caps its depth holds
// exactly the best ones.
func diffBook(got *l2Book, want Book) bookDiff {
	switch {
	case !got.snapped:
		return bookDiff{mismatch: &BookMismatch{Problem: "no snapshot received"}}
	case got.broken != "":
		return bookDiff{mismatch: &BookMismatch{Problem: got.broken}}
	}
	var d bookDiff
	for side, levels := range [2][]Level{want.Bids, want.Asks} {
		if n := got.depth[side]; n < len(levels) {
			levels = levels[:n]
			if d.capped == 0 || n < d.capped {
				d.capped = n
			}
		}
		if m := diffSide(side, got.sides[side], levels); m != nil && d.mismatch == nil {
			d.mismatch = m
		}
	}
	return d
}

var sideNames = [2]string{"bids", "asks"}

// diffSide returns the first level, best first, where got and want differ.
func diffSide(side int, got l2Side, want []Level) *BookMismatch {
	var first *BookMismatch
	for _, lv := range want {
		if g := got.get(lv.Price); g != lv.Size {
			first = &BookMismatch{Problem: "size differs", Side: sideNames[side], Price: lv.Price, Want: lv.Size, Got: g}
			if g == "" {
				first.Problem = "level missing"
			}
			break
		}
	}
	if len(got) == len(want) && first == nil {
		return nil
	}
	inWant := make(map[string]bool, len(want))
	for _, lv := range want {
		inWant[lv.Price] = true
	}
	for k := range got { // best first: bids from the top of the ascending order
		lv := got[k]
		if side == 0 {
			lv = got[len(got)-1-k]
		}
		if inWant[lv.price] {
			continue
		}
		if first == nil || better(side, lv.price, first.Price) {
			first = &BookMismatch{Problem: "extra level", Side: sideNames[side], Price: lv.price, Got: lv.size}
		}
		break
	}
	return first
}

// better reports whether price a is better than b on side: higher for
// bids, lower for asks.
func better(side int, a, b string) bool {
	if side == 0 {
		return cmpCanonical(a, b) > 0
	}
	return cmpCanonical(a, b) < 0
}
