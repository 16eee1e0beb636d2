package transport

// NewDetached returns a connection with no socket whose queue is never
// written (its flush is marked as in progress): Send does all its queueing
// work and nothing else. It exists for benchmarks of a protocol's send path;
// Discard empties the queue between rounds.
func (s *Server) NewDetached() *Conn {
	return &Conn{srv: s, flushing: true}
}

// Discard drops every queued frame as if it had been written, keeping the
// queue's memory.
func (c *Conn) Discard() {
	c.mu.Lock()
	clear(c.out)
	c.out, c.outBytes, c.keepBytes = c.out[:0], 0, 0
	c.syncQueued()
	c.mu.Unlock()
}
