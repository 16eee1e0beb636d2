package bench

// Level is one price level of a book, price and size in canonical decimal
// form (no leading or trailing zeros: "100.5", "0.12").
type Level struct {
	Price string `json:"price"`
	Size  string `json:"size"`
}

// Book is one product's level-2 book as the upstream holds it, each side
// best first.
type Book struct {
	Bids, Asks []Level
	// Feeds is how many upstream connections take the product's level2.
	// Each connection has its own book, so the book is the one a relaying
	// server must hold only when Feeds is 1.
	Feeds int
}

// FreezeBooks stops the books: once it returns no l2update and no trade is
// sent any more, so the books stay as they are, while the connections stay
// open and heartbeats go on. A relaying server that delivers everything it
// was sent then leaves every level2 subscriber with exactly the book Books
// returns. It cannot be undone.
func (u *Upstream) FreezeBooks() {
	u.frozen.Store(true)
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns { // a tick under way finishes first
		c.mu.Lock()
		c.mu.Unlock()
	}
}

// Books returns the book of every product a connection takes level2 of.
func (u *Upstream) Books() map[string]Book {
	out := map[string]Book{}
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		c.mu.Lock()
		for i, b := range c.books {
			if !c.subscribedLevel2(i) {
				continue
			}
			bk := out[b.id]
			if bk.Feeds == 0 {
				bk.Bids, bk.Asks = b.levelsOf(b.bids, -1), b.levelsOf(b.asks, 1)
			}
			bk.Feeds++
			out[b.id] = bk
		}
		c.mu.Unlock()
	}
	return out
}

// levelsOf spells one side's levels (dir -1 bids, 1 asks), best first.
func (b *upBook) levelsOf(sizes []int64, dir int64) []Level {
	out := make([]Level, len(sizes))
	var buf []byte
	canon := func(quoted []byte) string {
		s, _ := appendCanonical(nil, quoted[1:len(quoted)-1])
		return string(s)
	}
	for k, size := range sizes {
		buf = appendPrice(buf[:0], b.mid+dir*int64(k+1))
		out[k].Price = canon(buf)
		buf = appendSize(buf[:0], size)
		out[k].Size = canon(buf)
	}
	return out
}
