package feedtest

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/internal/jsonw"
)

// Script plays an Exchange to a Server's clients as a Coinbase-protocol
// upstream. A client's first message must be a subscribe; it is answered
// with subscriptions and, per product, a snapshot (level2 or level2_batch),
// last_match (matches) and the ticker (ticker). Then the exchange steps until
// it has taken Steps steps, every message going to the client when it
// subscribed the message's channel, and the script falls silent, answering
// only further requests: an unsubscribe, then subscribe of level2 brings a
// fresh snapshot, as on the exchange.
//
// The exchange is shared: a client that reconnects continues where the
// market is. Serve one client at a time.
type Script struct {
	Exchange *Exchange
	// Steps is the exchange step count after which the script is silent.
	Steps int
	// HeartbeatEvery sends heartbeats of the subscribed products every that
	// many steps; 0 sends none.
	HeartbeatEvery int
	// Secret, when set, requires a subscribe signed as Coinbase Exchange
	// checks it, with Key and Passphrase; a bad one gets an error and the
	// connection is closed.
	Key, Secret, Passphrase string
	// BeforeStep, when set, runs before each step with the steps taken so
	// far; it may send extra messages, or block (and should return when
	// c.Closed() is).
	BeforeStep func(step int, c *Conn)
	// Drop, when set, withholds the messages it returns true for; the
	// exchange's book still applies them, so the client has a real gap.
	Drop func(step int, m Message) bool

	mu   sync.Mutex
	reqs []Request
	sent atomic.Int64
}

// Sent counts the messages sent to clients so far, on all connections.
func (s *Script) Sent() int { return int(s.sent.Load()) }

// send writes one message to c and counts it.
func (s *Script) send(c *Conn, data []byte) error {
	if err := c.Send(data); err != nil {
		return err
	}
	s.sent.Add(1)
	return nil
}

// Requests returns every request received so far, on all connections.
func (s *Script) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// subs is one connection's subscriptions: product -> channel.
type subs map[string]map[string]bool

func (ss subs) has(m Message) bool { return ss[m.Product][m.Channel] }

// Serve is a Server handler.
func (s *Script) Serve(c *Conn) {
	req, err := c.Next(5 * time.Second)
	if err != nil || req.Type != "subscribe" {
		return
	}
	if !s.authorized(req) {
		s.send(c, []byte(`{"type":"error","message":"Authentication Failed"}`))
		return
	}
	ss := subs{}
	if !s.request(c, ss, req) {
		return
	}
	ex := s.Exchange
	for ex.Steps() < s.Steps {
		if !s.drain(c, ss) {
			return
		}
		step := ex.Steps()
		if s.BeforeStep != nil {
			s.BeforeStep(step, c)
		}
		for _, m := range ex.Step() {
			if (s.Drop != nil && s.Drop(step, m)) || !ss.has(m) {
				continue
			}
			if s.send(c, m.Data) != nil {
				return
			}
		}
		if s.HeartbeatEvery > 0 && (step+1)%s.HeartbeatEvery == 0 && !s.heartbeats(c, ss) {
			return
		}
	}
	for {
		select {
		case r, ok := <-c.Requests():
			if !ok || !s.request(c, ss, r) {
				return
			}
		case <-c.Closed():
			return
		}
	}
}

// drain handles the requests that arrived; false when the connection is gone.
func (s *Script) drain(c *Conn, ss subs) bool {
	for {
		select {
		case r, ok := <-c.Requests():
			if !ok || !s.request(c, ss, r) {
				return false
			}
		case <-c.Closed():
			return false
		default:
			return true
		}
	}
}

func (s *Script) heartbeats(c *Conn, ss subs) bool {
	for _, id := range s.Exchange.Products() {
		if ss[id][ChannelHeartbeat] && s.send(c, s.Exchange.Heartbeat(id).Data) != nil {
			return false
		}
	}
	return true
}

func (s *Script) authorized(r Request) bool {
	if s.Secret == "" {
		return true
	}
	want, err := coinbase.Sign(s.Secret, r.Timestamp, "GET", "/users/self/verify", "")
	return err == nil && r.Signature == want && r.Key == s.Key && r.Passphrase == s.Passphrase
}

// request applies a subscribe or unsubscribe, answers it and sends what a
// new subscription starts with; false when the connection is gone.
func (s *Script) request(c *Conn, ss subs, r Request) bool {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
	var fresh []Message
	for _, id := range r.ProductIDs {
		if !slices.Contains(s.Exchange.Products(), id) {
			msg := jsonw.AppendString([]byte(`{"type":"error","message":"Failed to subscribe","reason":`), id+" is not a valid product")
			return s.send(c, append(msg, '}')) == nil
		}
		if ss[id] == nil {
			ss[id] = map[string]bool{}
		}
		for _, ch := range r.Channels {
			if ch == coinbase.ChannelLevel2Batch {
				ch = ChannelLevel2
			}
			switch {
			case r.Type == "unsubscribe":
				delete(ss[id], ch)
			case !ss[id][ch]:
				ss[id][ch] = true
				fresh = append(fresh, s.starter(id, ch)...)
			}
		}
	}
	if s.send(c, subscriptionsMessage(ss)) != nil {
		return false
	}
	for _, m := range fresh {
		if s.send(c, m.Data) != nil {
			return false
		}
	}
	return true
}

// starter is what a new subscription of product to channel begins with.
func (s *Script) starter(product, channel string) []Message {
	switch channel {
	case ChannelLevel2:
		return []Message{s.Exchange.Snapshot(product)}
	case ChannelMatches:
		if m, ok := s.Exchange.LastMatch(product); ok {
			return []Message{m}
		}
	case ChannelTicker:
		if m, ok := s.Exchange.Ticker(product); ok {
			return []Message{m}
		}
	}
	return nil
}

func subscriptionsMessage(ss subs) []byte {
	type entry struct {
		Name       string   `json:"name"`
		ProductIDs []string `json:"product_ids"`
	}
	byChannel := map[string][]string{}
	for id, chs := range ss {
		for ch := range chs {
			byChannel[ch] = append(byChannel[ch], id)
		}
	}
	msg := struct {
		Type     string  `json:"type"`
		Channels []entry `json:"channels"`
	}{Type: "subscriptions", Channels: []entry{}}
	for _, ch := range slices.Sorted(maps.Keys(byChannel)) {
		ids := byChannel[ch]
		slices.Sort(ids)
		msg.Channels = append(msg.Channels, entry{ch, ids})
	}
	b, _ := json.Marshal(msg)
	return b
}
