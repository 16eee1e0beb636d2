package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tickerfan/tickerfan/client"
)

// topPrinter redraws a live top of book, one line per product, at most ten
// times a second: best bid and ask with sizes, the spread, the last trade.
type topPrinter struct {
	w        io.Writer
	c        *client.Client
	products []string
	last     map[string]string // last trade price per product, from ticker
	drawn    time.Time
	lines    int
}

func newTopPrinter(w io.Writer, c *client.Client, products []string) *topPrinter {
	return &topPrinter{w: w, c: c, products: products, last: map[string]string{}}
}

func (p *topPrinter) print(m client.Message) error {
	if t, ok := m.(*client.Ticker); ok {
		p.last[t.ProductID] = t.Price.String()
	}
	if e, ok := m.(*client.Error); ok {
		_, err := fmt.Fprintf(p.w, "\r\033[Kerror: %s: %s\n", e.Message, e.Reason)
		p.lines = 0
		return err
	}
	if time.Since(p.drawn) < 100*time.Millisecond {
		return nil
	}
	p.drawn = time.Now()
	var sb strings.Builder
	if p.lines > 0 {
		fmt.Fprintf(&sb, "\033[%dA", p.lines) // back to the first line drawn
	}
	for _, id := range p.products {
		sb.WriteString("\r\033[K" + p.line(id) + "\n")
	}
	p.lines = len(p.products)
	_, err := io.WriteString(p.w, sb.String())
	return err
}

func (p *topPrinter) line(id string) string {
	last := p.last[id]
	if last == "" {
		last = "-"
	}
	b, ok := p.c.Book(id)
	if !ok {
		return fmt.Sprintf("%-10s  last %-14s  (no book: subscribe level2 for one)", id, last)
	}
	bid, ask, ok := b.Best()
	if !ok {
		return fmt.Sprintf("%-10s  last %-14s  one side of the book is empty", id, last)
	}
	return fmt.Sprintf("%-10s  bid %14s x %-14s  ask %14s x %-14s  spread %-10s  last %-14s  seq %d",
		id, bid.PriceText(), bid.SizeText(), ask.PriceText(), ask.SizeText(), spread(bid, ask), last, b.Sequence)
}

// spread is ask - bid with the places the server writes prices with.
func spread(bid, ask client.Level) string {
	places := 0
	if _, frac, ok := strings.Cut(bid.PriceText(), "."); ok {
		places = len(frac)
	}
	return ask.Price.Sub(bid.Price).StringFixed(int32(places))
}

func (p *topPrinter) end() {}
