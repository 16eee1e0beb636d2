package fanout

// subSet is the set of connections subscribed to one (product, channel): a
// slice to iterate fast when fanning out, and positions for O(1) removal.
type subSet struct {
	list []*Conn
	pos  map[*Conn]int
	next int // where the next send starts
}

func (s *subSet) add(c *Conn) {
	if s.pos == nil {
		s.pos = make(map[*Conn]int)
	}
	if _, ok := s.pos[c]; ok {
		return
	}
	s.pos[c] = len(s.list)
	s.list = append(s.list, c)
}

func (s *subSet) remove(c *Conn) {
	i, ok := s.pos[c]
	if !ok {
		return
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.pos[s.list[i]] = i
	s.list[last] = nil
	s.list = s.list[:last]
	delete(s.pos, c)
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
		c.send(f)
	}
	for _, c := range s.list[:start] {
		c.send(f)
	}
}
