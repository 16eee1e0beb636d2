package bus

import "strings"

// Subjects names the NATS subjects under one prefix:
//
//	<prefix>.book.<feed>.<product>        events of a product (Publisher -> Followers)
//	<prefix>.beat.<ingest>                an ingest's Beat
//	<prefix>.snapshot.<ingest>.<product>  request/reply: the product's current book
//
// Feed, product and ingest names become one token each through Token.
type Subjects struct{ Prefix string }

// Event is the subject of product's events from feed.
func (s Subjects) Event(feed, product string) string {
	return s.Prefix + ".book." + Token(feed) + "." + Token(product)
}

// Events is the subscription for product's events from any feed, or every
// product's when product is "".
func (s Subjects) Events(product string) string {
	if product == "" {
		return s.Prefix + ".book.>"
	}
	return s.Prefix + ".book.*." + Token(product)
}

// Beat is the subject of ingest's beats; Beat("") is the subscription for
// every ingest's.
func (s Subjects) Beat(ingest string) string {
	if ingest == "" {
		return s.Prefix + ".beat.*"
	}
	return s.Prefix + ".beat." + Token(ingest)
}

// Snapshot is the request subject for product's book at ingest; product ""
// gives the ingest's subscription for all its products.
func (s Subjects) Snapshot(ingest, product string) string {
	if product == "" {
		return s.Prefix + ".snapshot." + Token(ingest) + ".*"
	}
	return s.Prefix + ".snapshot." + Token(ingest) + "." + Token(product)
}

// Token turns a name into one NATS subject token: ASCII letters, digits,
// '-' and '_' stay; every other byte (the separator '.', the wildcards '*'
// and '>', spaces, '%', non-ASCII) becomes %XX, its hex value, so distinct
// names give distinct tokens. "" becomes "%".
func Token(name string) string {
	if name == "" {
		return "%"
	}
	clean := true
	for i := 0; i < len(name); i++ {
		clean = clean && tokenByte(name[i])
	}
	if clean {
		return name
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if tokenByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
