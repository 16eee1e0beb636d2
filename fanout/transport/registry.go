package transport

import (
	"sync"

	"github.com/tickerfan/tickerfan/internal/indexset"
)

// registry is the set of live connections, for the sweeper, shutdown and the
// connection limit. Its mu is a leaf.
type registry struct {
	mu   sync.Mutex
	set  indexset.Set[*Conn]
	done chan struct{} // closed when the set becomes empty after drain starts
	wait bool
}

func (r *registry) add(c *Conn) {
	r.mu.Lock()
	r.set.Add(c)
	r.mu.Unlock()
}

func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set.Remove(c) && r.wait && r.set.Len() == 0 {
		close(r.done)
		r.wait = false
	}
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.set.Len()
}

// all copies the live connections.
func (r *registry) all(dst []*Conn) []*Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(dst[:0], r.set.List()...)
}

// emptied returns a channel closed once no connection is left.
func (r *registry) emptied() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if r.set.Len() == 0 {
		close(ch)
		return ch
	}
	r.done, r.wait = ch, true
	return ch
}
