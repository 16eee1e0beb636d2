package client

import (
	"encoding/json"
	"maps"
	"slices"
)

// level2Channels carry snapshot and l2update; a product is on one at most.
var level2Channels = []string{"level2", "level2_batch", "level2_50"}

func isLevel2(channel string) bool { return slices.Contains(level2Channels, channel) }

// subscriptions is what the client is subscribed to: channel -> products.
// The status channel has no products; it is kept with an empty set.
type subscriptions map[string]map[string]bool

// pair is one (channel, product) of a subscription.
type pair struct{ channel, product string }

// add records pairs and returns those that were not there yet.
func (s subscriptions) add(channels, products []string) []pair {
	var added []pair
	for _, ch := range channels {
		if s[ch] == nil {
			s[ch] = map[string]bool{}
			if ch == "status" {
				added = append(added, pair{ch, ""})
			}
		}
		for _, p := range products {
			if ch != "status" && !s[ch][p] {
				s[ch][p] = true
				added = append(added, pair{ch, p})
			}
		}
	}
	return added
}

// remove drops pairs; a channel without products is dropped whole.
func (s subscriptions) remove(ps []pair) {
	for _, p := range ps {
		delete(s[p.channel], p.product)
		if len(s[p.channel]) == 0 {
			delete(s, p.channel)
		}
	}
}

// removeAll drops products from channels, status with no products.
func (s subscriptions) removeAll(channels, products []string) {
	for _, ch := range channels {
		if ch == "status" {
			delete(s, ch)
			continue
		}
		for _, p := range products {
			delete(s[ch], p)
		}
		if len(s[ch]) == 0 {
			delete(s, ch)
		}
	}
}

// level2Of returns the level-2 channel product is on, "" when none.
func (s subscriptions) level2Of(product string) string {
	for _, ch := range level2Channels {
		if s[ch][product] {
			return ch
		}
	}
	return ""
}

// conflict returns a product that adding channels would put on two level-2
// channels, "" when none would be.
func (s subscriptions) conflict(channels, products []string) string {
	var l2 string
	for _, ch := range channels {
		if isLevel2(ch) {
			if l2 != "" && l2 != ch {
				return products[0]
			}
			l2 = ch
		}
	}
	for _, p := range products {
		if have := s.level2Of(p); l2 != "" && have != "" && have != l2 {
			return p
		}
	}
	return ""
}

// wireChannel is a channel of a request, in the object form.
type wireChannel struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids,omitempty"`
}

// request is a subscribe or unsubscribe as sent.
type request struct {
	Type     string            `json:"type"`
	Channels []wireChannel     `json:"channels"`
	Checksum bool              `json:"checksum,omitempty"`
	Resume   map[string]uint64 `json:"resume,omitempty"`
}

// request encodes the whole state as one subscribe.
func (s subscriptions) request(checksum bool, resume map[string]uint64) []byte {
	r := request{Type: "subscribe", Checksum: checksum, Resume: resume}
	for _, ch := range slices.Sorted(maps.Keys(s)) {
		r.Channels = append(r.Channels, wireChannel{ch, slices.Sorted(maps.Keys(s[ch]))})
	}
	return encodeRequest(r)
}

// newRequest encodes a subscribe or unsubscribe of channels for products.
func newRequest(typ string, channels, products []string, checksum bool) []byte {
	r := request{Type: typ, Checksum: checksum && typ == "subscribe"}
	for _, ch := range channels {
		w := wireChannel{Name: ch}
		if ch != "status" {
			w.ProductIDs = products
		}
		r.Channels = append(r.Channels, w)
	}
	return encodeRequest(r)
}

func encodeRequest(r request) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("client: encoding a request: " + err.Error()) // strings, bools and numbers only
	}
	return b
}
