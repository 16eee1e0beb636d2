package fanout

import (
	"errors"
	"maps"
	"sync"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/fanout/transport"
)

// session is the protocol's record of one connection: what it subscribed.
// It lives in the Server's sessions, not in the transport's Conn. mu guards
// all fields.
type session struct {
	mu     sync.Mutex
	closed bool          // OnClose ran: nothing may be added any more
	subs   []channelMask // per product index; nil until the first subscribe
	status bool          // subscribed to the status channel
}

// sessions maps each connection that has sent a message to its session. mu
// guards m.
type sessions struct {
	mu   sync.Mutex
	m    map[*transport.Conn]*session
	peak int // len(m) when m was made: see take
}

// get returns c's session, creating it; nil once c is closed (its OnClose
// has run or is about to: the transport marks a connection closed first).
func (ss *sessions) get(c *transport.Conn) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s, ok := ss.m[c]; ok {
		return s
	}
	if !c.Open() {
		return nil
	}
	if ss.m == nil {
		ss.m = make(map[*transport.Conn]*session)
	}
	s := &session{}
	ss.m[c] = s
	ss.peak = max(ss.peak, len(ss.m))
	return s
}

// take removes and returns c's session, nil if it has none.
func (ss *sessions) take(c *transport.Conn) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[c]
	delete(ss.m, c)
	// A Go map never shrinks: after a connection flood, a fresh map gives
	// the buckets back (O(1) amortized: rebuilt after 3/4 of it left).
	if n := len(ss.m); n == 0 || (ss.peak >= 256 && 4*n <= ss.peak) {
		var fresh map[*transport.Conn]*session
		if n > 0 {
			fresh = make(map[*transport.Conn]*session, n)
			maps.Copy(fresh, ss.m)
		}
		ss.m, ss.peak = fresh, n
	}
	return s
}

// closed is the transport's OnClose: it unsubscribes c from everything.
func (s *Server) closed(c *transport.Conn) {
	sess := s.sessions.take(c)
	if sess == nil {
		return
	}
	sess.mu.Lock()
	sess.closed = true
	subs, status := sess.subs, sess.status
	sess.mu.Unlock()
	s.hub.unsubscribeAll(c, subs, status)
}

// handleMessage answers one client message: a subscriptions reply with the
// whole new state, or an error reply that changes nothing. It is the
// transport's OnMessage, on c's read worker.
func (s *Server) handleMessage(c *transport.Conn, data []byte) {
	s.metrics.messagesIn.Add(1)
	req, err := parseRequest(data, s.cat.index)
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			re = &requestError{message: "Failed to subscribe", reason: err.Error()}
		}
		s.metrics.requestErrors.Add(1)
		s.log.Debug("client request rejected", zap.String("remote", c.Remote()), zap.String("reason", re.reason))
		c.Send(encodeError(re.message, re.reason), transport.Keep, 0)
		return
	}
	if req.subscribe && s.auth != nil {
		if reason := s.auth.verify(req.signed); reason != "" {
			s.metrics.requestErrors.Add(1)
			c.Send(encodeError("Failed to subscribe", reason), transport.Keep, 0)
			return
		}
	}
	if sess := s.sessions.get(c); sess != nil {
		s.apply(c, sess, req)
	}
}

// apply changes c's subscriptions as req says. Removals happen first, then
// the subscriptions reply is queued, then additions: so a client never reads
// data of a channel after the reply that dropped it, and always reads the
// reply before the snapshot of a channel it added.
func (s *Server) apply(c *transport.Conn, sess *session, req *request) {
	n := len(s.cat.products)
	added := make([]channelMask, n)
	removed := make([]channelMask, n)
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return
	}
	if sess.subs == nil {
		sess.subs = make([]channelMask, n)
	}
	for p, old := range sess.subs {
		next := old | req.want[p]
		if !req.subscribe {
			next = old &^ req.want[p] &^ req.dropAll
		}
		sess.subs[p] = next
		added[p], removed[p] = next&^old, old&^next
	}
	oldStatus := sess.status
	if req.status {
		sess.status = req.subscribe
	}
	newStatus := sess.status
	reply := encodeSubscriptions(s.entries(sess))
	sess.mu.Unlock()
	if req.subscribe {
		c.Ready() // subscribe_timeout no longer applies
	}

	for p := 0; p < n; p++ {
		if removed[p] != 0 {
			s.hub.unsubscribe(c, p, removed[p])
		}
	}
	if oldStatus && !newStatus {
		s.hub.status.remove(c)
	}
	c.Send(reply, transport.Keep, 0)
	for p := 0; p < n; p++ {
		if added[p] != 0 {
			seen, resume := req.resume[p]
			s.hub.subscribe(c, subscription{product: p, channels: added[p], checksum: req.checksum, resume: resume, seen: seen})
		}
	}
	if newStatus && !oldStatus {
		s.hub.status.add(c)
	}
}

// entries lists sess's subscriptions per channel, products in catalog order.
// sess.mu must be held.
func (s *Server) entries(sess *session) []subscriptionEntry {
	var out []subscriptionEntry
	for ch := channel(0); ch < numChannels; ch++ {
		if ch == chStatus {
			if sess.status {
				out = append(out, subscriptionEntry{name: ch.String(), ids: []string{}})
			}
			continue
		}
		var ids []string
		for p, m := range sess.subs {
			if m.has(ch) {
				ids = append(ids, s.cat.ids[p])
			}
		}
		if len(ids) > 0 {
			out = append(out, subscriptionEntry{name: ch.String(), ids: ids})
		}
	}
	return out
}
