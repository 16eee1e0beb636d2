package transport

import "sync"

// registry is the set of live connections, for the sweeper, shutdown and the
// connection limit. Its mu is a leaf.
type registry struct {
	mu   sync.Mutex
	list []*Conn
	pos  map[*Conn]int
	done chan struct{} // closed when the set becomes empty after drain starts
	wait bool
}

func (r *registry) add(c *Conn) {
	r.mu.Lock()
	if r.pos == nil {
		r.pos = make(map[*Conn]int)
	}
	if _, ok := r.pos[c]; !ok {
		r.pos[c] = len(r.list)
		r.list = append(r.list, c)
	}
	r.mu.Unlock()
}

func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.pos[c]
	if !ok {
		return
	}
	last := len(r.list) - 1
	r.list[i] = r.list[last]
	r.pos[r.list[i]] = i
	r.list[last] = nil
	r.list = r.list[:last]
	delete(r.pos, c)
	if r.wait && len(r.list) == 0 {
		close(r.done)
		r.wait = false
	}
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.list)
}

// all copies the live connections.
func (r *registry) all(dst []*Conn) []*Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(dst[:0], r.list...)
}

// emptied returns a channel closed once no connection is left.
func (r *registry) emptied() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if len(r.list) == 0 {
		close(ch)
		return ch
	}
	r.done, r.wait = ch, true
	return ch
}
