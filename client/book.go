package client

import (
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
)

// Book is an exact level-2 book of one product, kept from a Snapshot and
// the L2Updates that follow it. The zero Book is empty and holds no
// sequence; it is not safe for concurrent use (Client.Book returns copies).
type Book struct {
	ProductID string
	// Sequence is the extension sequence of the last snapshot or update
	// applied.
	Sequence uint64
	bids     []Level // best (highest) first
	asks     []Level // best (lowest) first
}

// Bids returns the bid levels, best first. The slice is the caller's.
func (b *Book) Bids() []Level { return append([]Level(nil), b.bids...) }

// Asks returns the ask levels, best first. The slice is the caller's.
func (b *Book) Asks() []Level { return append([]Level(nil), b.asks...) }

// Best returns the best bid and ask; ok is false when a side is empty.
func (b *Book) Best() (bid, ask Level, ok bool) {
	if len(b.bids) == 0 || len(b.asks) == 0 {
		return bid, ask, false
	}
	return b.bids[0], b.asks[0], true
}

// Clone returns a copy that shares nothing with b.
func (b *Book) Clone() *Book {
	c := *b
	c.bids, c.asks = b.Bids(), b.Asks()
	return &c
}

// Reset replaces the book with a snapshot.
func (b *Book) Reset(s *Snapshot) {
	b.ProductID, b.Sequence = s.ProductID, s.Sequence
	b.bids = append(b.bids[:0], s.Bids...)
	b.asks = append(b.asks[:0], s.Asks...)
}

// Apply applies an update whose sequence follows the book's, its changes in
// order (an update may set a level and remove it again). A sequence gap is
// an error that leaves the book as it was; a removal of a level the book
// does not hold is an error that leaves it partly updated. Either way the
// book needs a fresh snapshot (Reset).
func (b *Book) Apply(u *L2Update) error {
	if u.Sequence != b.Sequence+1 {
		return fmt.Errorf("%w: %s: have %d, got %d", errGap, u.ProductID, b.Sequence, u.Sequence)
	}
	for _, c := range u.Changes {
		if !b.set(c) {
			return fmt.Errorf("%w: %s %s %s", errUnknownLevel, u.ProductID, c.Side, c.PriceText())
		}
	}
	b.Sequence = u.Sequence
	return nil
}

// side returns the levels of a change's side and how that side orders
// prices: i comes before j when better(i, j).
func (b *Book) side(c Change) (*[]Level, func(x, y Level) bool) {
	if c.Side == "buy" {
		return &b.bids, func(x, y Level) bool { return x.Price.GreaterThan(y.Price) }
	}
	return &b.asks, func(x, y Level) bool { return x.Price.LessThan(y.Price) }
}

// find returns where c's price is or would go in its side.
func (b *Book) find(c Change) (levels *[]Level, i int, found bool) {
	levels, better := b.side(c)
	ls := *levels
	i = sort.Search(len(ls), func(i int) bool { return !better(ls[i], c.Level) })
	return levels, i, i < len(ls) && ls[i].Price.Equal(c.Price)
}

// set applies one change: replace, insert, or (size zero) remove; false for
// the removal of a level the book does not hold.
func (b *Book) set(c Change) bool {
	levels, i, found := b.find(c)
	switch {
	case c.Size.IsZero():
		if !found {
			return false
		}
		*levels = append((*levels)[:i], (*levels)[i+1:]...)
	case found:
		(*levels)[i] = c.Level
	default:
		*levels = append(*levels, Level{})
		copy((*levels)[i+1:], (*levels)[i:])
		(*levels)[i] = c.Level
	}
	return true
}

// checksumDepth levels per side go into the checksum.
const checksumDepth = 10

// Checksum is the checksum extension over the book: CRC-32 (IEEE) of the top
// 10 asks (best first) then the top 10 bids (best first), each level's price
// then size as the server wrote them, with the decimal point and the leading
// zeros removed (the manner of Kraken's book checksum).
func (b *Book) Checksum() uint32 {
	var sb strings.Builder
	for _, side := range [][]Level{b.asks, b.bids} {
		for i, l := range side {
			if i == checksumDepth {
				break
			}
			sb.WriteString(checksumDigits(l.text(l.priceText, l.Price)))
			sb.WriteString(checksumDigits(l.text(l.sizeText, l.Size)))
		}
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

func checksumDigits(s string) string {
	return strings.TrimLeft(strings.Replace(s, ".", "", 1), "0")
}

// verify compares the book with a server checksum; nil sum passes.
func (b *Book) verify(sum *uint32) error {
	if sum == nil {
		return nil
	}
	if got := b.Checksum(); got != *sum {
		return fmt.Errorf("%w: %s at sequence %d: book %d, server %d", errChecksum, b.ProductID, b.Sequence, got, *sum)
	}
	return nil
}
