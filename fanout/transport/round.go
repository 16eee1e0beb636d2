package transport

// Round holds back the writes of the frames queued during one round of the
// fan-out, then starts them together (End): a connection that gets frames of
// several products in a round has them written in one writev, not one per
// frame. Under load that is most of what a write costs, and it adds at most
// the round's duration to a frame's wait; at light load a round is one
// event and nothing waits.
//
// A Round is not safe for concurrent use: each fan-out goroutine has its own.
type Round struct {
	conns []*Conn // connections whose flush is claimed and not yet scheduled
}

// SendIn is Send within round r (nil: Send itself): the flush it would start
// is started by r.End.
func (c *Conn) SendIn(r *Round, b []byte, class Class, key StreamKey) {
	c.mu.Lock()
	flush := c.sendLocked(frame{b: b, tag: tagOf(class, key)})
	c.mu.Unlock()
	switch {
	case !flush:
	case r == nil:
		c.scheduleFlush()
	default:
		r.conns = append(r.conns, c)
	}
}

// End starts the writes the round held back. The connections' flushes were
// claimed when their first frame was queued, so each is scheduled once, and
// a connection closed meanwhile finds nothing to write.
func (r *Round) End() {
	for i, c := range r.conns {
		c.scheduleFlush()
		r.conns[i] = nil
	}
	r.conns = r.conns[:0]
	if cap(r.conns) > 1<<14 {
		r.conns = nil // a flood's list is not kept
	}
}
