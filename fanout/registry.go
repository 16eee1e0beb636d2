package fanout

import "sync"

// registry is the set of live connections, for the sweeper, shutdown and the
// connection limit.
type registry struct {
	mu   sync.Mutex
	set  subSet
	done chan struct{} // closed when the set becomes empty after drain starts
	wait bool
}

func (r *registry) add(c *Conn) {
	r.mu.Lock()
	r.set.add(c)
	r.mu.Unlock()
}

func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	r.set.remove(c)
	if r.wait && r.set.len() == 0 {
		close(r.done)
		r.wait = false
	}
	r.mu.Unlock()
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set.len()
}

// all copies the live connections.
func (r *registry) all(dst []*Conn) []*Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(dst[:0], r.set.list...)
}

// emptied returns a channel closed once no connection is left.
func (r *registry) emptied() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if r.set.len() == 0 {
		close(ch)
		return ch
	}
	r.done, r.wait = ch, true
	return ch
}
