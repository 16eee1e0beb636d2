package fanout

import (
	"errors"

	"go.uber.org/zap"
)

// handleMessage answers one client message: a subscriptions reply with the
// whole new state, or an error reply that changes nothing. Runs on the read
// worker of c.
func (s *Server) handleMessage(c *Conn, data []byte) {
	s.metrics.messagesIn.Add(1)
	req, err := parseRequest(data, s.cat.index)
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			re = &requestError{message: "Failed to subscribe", reason: err.Error()}
		}
		s.metrics.requestErrors.Add(1)
		s.log.Debug("client request rejected", zap.String("remote", c.remote), zap.String("reason", re.reason))
		c.send(outFrame{b: encodeError(re.message, re.reason), kind: kindKeep})
		return
	}
	if req.subscribe && s.auth != nil {
		if reason := s.auth.verify(req.signed); reason != "" {
			s.metrics.requestErrors.Add(1)
			c.send(outFrame{b: encodeError("Failed to subscribe", reason), kind: kindKeep})
			return
		}
	}
	s.apply(c, req)
}

// apply changes c's subscriptions as req says. Removals happen first, then
// the subscriptions reply is queued, then additions: so a client never reads
// data of a channel after the reply that dropped it, and always reads the
// reply before the snapshot of a channel it added.
func (s *Server) apply(c *Conn, req *request) {
	n := len(s.cat.products)
	added := make([]channelMask, n)
	removed := make([]channelMask, n)
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	if c.subs == nil {
		c.subs = make([]channelMask, n)
	}
	for p, old := range c.subs {
		next := old | req.want[p]
		if !req.subscribe {
			next = old &^ req.want[p] &^ req.dropAll
		}
		c.subs[p] = next
		added[p], removed[p] = next&^old, old&^next
	}
	oldStatus := c.status
	if req.status {
		c.status = req.subscribe
	}
	if req.subscribe {
		c.subscribed = true
	}
	newStatus := c.status
	reply := encodeSubscriptions(c.entriesLocked())
	c.mu.Unlock()

	for p := 0; p < n; p++ {
		if removed[p] != 0 {
			s.hub.unsubscribe(c, p, removed[p])
		}
	}
	if oldStatus && !newStatus {
		s.hub.status.remove(c)
	}
	c.send(outFrame{b: reply, kind: kindKeep})
	for p := 0; p < n; p++ {
		if added[p] != 0 {
			seen, resume := req.resume[p]
			s.hub.subscribe(c, p, added[p], req.checksum, seen, resume)
		}
	}
	if newStatus && !oldStatus {
		s.hub.status.add(c)
	}
}

// entriesLocked lists c's subscriptions per channel, products in catalog
// order. mu must be held.
func (c *Conn) entriesLocked() []subscriptionEntry {
	var out []subscriptionEntry
	for ch := channel(0); ch < numChannels; ch++ {
		if ch == chStatus {
			if c.status {
				out = append(out, subscriptionEntry{name: ch.String(), ids: []string{}})
			}
			continue
		}
		var ids []string
		for p, m := range c.subs {
			if m.has(ch) {
				ids = append(ids, c.srv.cat.ids[p])
			}
		}
		if len(ids) > 0 {
			out = append(out, subscriptionEntry{name: ch.String(), ids: ids})
		}
	}
	return out
}
