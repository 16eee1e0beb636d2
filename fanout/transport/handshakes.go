package transport

import (
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Handshakes that may be closed to make room: one that has sent part of its
// head and has waited evictAge since it connected (a client sends its head in
// one segment, so only a trickler is caught with half of it), or any that has
// waited silentEvictAge (its head has not come at all). An honest client in
// a storm whose head simply has not been read yet is neither.
const (
	evictAge       = 100 * time.Millisecond
	silentEvictAge = time.Second
)

// handshakes is the table of connections whose request head is not read
// yet, oldest first, so accept can close the stalest when every slot is
// taken instead of stalling behind slow clients (slowloris). Its mu is a
// leaf.
type handshakes struct {
	mu      sync.Mutex
	waiting []*pending // oldest first; at most max_handshakes
}

// pending is one handshake waiting for its head.
type pending struct {
	nc      net.Conn
	since   time.Time
	partial atomic.Bool // a read returned part of the head, not all of it
}

// add records a handshake that starts waiting for its head.
func (h *handshakes) add(p *pending) {
	h.mu.Lock()
	h.waiting = append(h.waiting, p)
	h.mu.Unlock()
}

// remove forgets p: its head was read, or it failed.
func (h *handshakes) remove(p *pending) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if i := slices.Index(h.waiting, p); i >= 0 {
		h.waiting = slices.Delete(h.waiting, i, i+1)
	}
	if len(h.waiting) == 0 {
		h.waiting = nil // a storm's slice is not kept
	}
}

// evictStalest closes the oldest handshake that may be closed (see
// evictAge) and reports whether there was one. Its goroutine sees the read
// fail and gives its slot back.
func (h *handshakes) evictStalest(now time.Time) bool {
	h.mu.Lock()
	i := slices.IndexFunc(h.waiting, func(p *pending) bool {
		age := now.Sub(p.since)
		return age >= silentEvictAge || (age >= evictAge && p.partial.Load())
	})
	if i < 0 {
		h.mu.Unlock()
		return false
	}
	p := h.waiting[i]
	h.waiting = slices.Delete(h.waiting, i, i+1)
	h.mu.Unlock()
	p.nc.Close()
	return true
}
