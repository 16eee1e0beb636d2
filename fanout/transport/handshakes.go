package transport

import (
	"net"
	"slices"
	"sync"
	"time"
)

// evictAge is how long a handshake must have waited for its request head
// before accept may close it to make room: a client that connects sends its
// head within a round trip, so only a stalled one is that old.
const evictAge = 100 * time.Millisecond

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
	nc    net.Conn
	since time.Time
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

// evictStalest closes the oldest handshake that has waited at least evictAge
// and reports whether there was one. Its goroutine sees the read fail and
// gives its slot back.
func (h *handshakes) evictStalest(now time.Time) bool {
	h.mu.Lock()
	if len(h.waiting) == 0 || now.Sub(h.waiting[0].since) < evictAge {
		h.mu.Unlock()
		return false
	}
	p := h.waiting[0]
	h.waiting[0] = nil
	h.waiting = h.waiting[1:]
	h.mu.Unlock()
	p.nc.Close()
	return true
}
