package fanout

import "github.com/tickerfan/tickerfan/fanout/transport"

// outFrame is one frame on its way to subscribers: the encoded bytes, what
// the transport may do with them under pressure, and, for conflatable
// channels, the (product, channel) stream as an opaque transport key.
type outFrame struct {
	b     []byte
	class transport.Class
	key   transport.StreamKey
}

// streamKey names (product, channel) for the transport's conflation.
func streamKey(idx productIndex, ch channel) transport.StreamKey {
	return transport.StreamKey(idx)<<3 | transport.StreamKey(ch)
}

// splitKey undoes streamKey.
func splitKey(k transport.StreamKey) (productIndex, channel) {
	return productIndex(k >> 3), channel(k & 7)
}

// keep is a frame that is never dropped.
func keep(b []byte) outFrame { return outFrame{b: b, class: transport.Keep} }

// subSet is the set of connections subscribed to one (product, channel): a
// slice to iterate fast when fanning out, and positions for O(1) removal.
type subSet struct {
	list []*transport.Conn
	pos  map[*transport.Conn]int
	next int // where the next send starts
}

// add adds c and reports whether it was not a member yet.
func (s *subSet) add(c *transport.Conn) bool {
	if s.pos == nil {
		s.pos = make(map[*transport.Conn]int)
	}
	if _, ok := s.pos[c]; ok {
		return false
	}
	s.pos[c] = len(s.list)
	s.list = append(s.list, c)
	return true
}

// remove removes c and reports whether it was a member.
func (s *subSet) remove(c *transport.Conn) bool {
	i, ok := s.pos[c]
	if !ok {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.pos[s.list[i]] = i
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.pos, c)
	return true
}

func (s *subSet) has(c *transport.Conn) bool {
	_, ok := s.pos[c]
	return ok
}

func (s *subSet) len() int { return len(s.list) }

// send queues f to every member. Each send starts one member further along,
// so no subscriber is always the last to get a frame: the fan-out's latency
// tail is shared evenly (tickerbench measured 0.3 ms for the first of 100
// subscribers against 1 ms for the last with a fixed order).
func (s *subSet) send(f outFrame) {
	n := len(s.list)
	if n == 0 {
		return
	}
	start := s.next % n
	s.next = start + 1
	for _, c := range s.list[start:] {
		c.Send(f.b, f.class, f.key)
	}
	for _, c := range s.list[:start] {
		c.Send(f.b, f.class, f.key)
	}
}
