package fanout

import (
	"sync"

	"github.com/tickerfan/tickerfan/fanout/transport"
)

// statusBoard is the state of the status channel: every product's online
// state and the connections subscribed to it. mu guards all.
type statusBoard struct {
	mu       sync.Mutex
	cat      *catalog
	states   []productStatus
	explicit []bool // the product's feed reports its status itself
	subs     subSet
	frame    []byte // cached status message, nil when stale
}

func (b *statusBoard) init(cat *catalog) {
	b.cat = cat
	b.states = make([]productStatus, len(cat.products))
	b.explicit = make([]bool, len(cat.products))
	for i := range b.states {
		b.states[i] = productStatus{message: "waiting for upstream"}
	}
}

// set records a product's state, as its feed reported it, and tells status
// subscribers when it changed.
func (b *statusBoard) set(idx int, online bool, message string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.explicit[idx] = true
	b.setLocked(idx, productStatus{online: online, message: message})
}

// sawData marks a product online when data arrives, for feeds that never
// report status themselves; a feed that does report it is believed alone.
func (b *statusBoard) sawData(idx int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.explicit[idx] {
		b.setLocked(idx, productStatus{online: true})
	}
}

func (b *statusBoard) setLocked(idx int, st productStatus) {
	if b.states[idx] == st {
		return
	}
	b.states[idx] = st
	b.frame = nil
	if b.subs.Len() > 0 {
		b.subs.send(keep(b.frameLocked()), nil)
	}
}

// broadcast sends the current status to every status subscriber.
func (b *statusBoard) broadcast() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs.Len() > 0 {
		b.subs.send(keep(b.frameLocked()), nil)
	}
}

func (b *statusBoard) frameLocked() []byte {
	if b.frame == nil {
		b.frame = encodeStatus(b.cat.products, b.states, b.cat.currencies)
	}
	return b.frame
}

// add subscribes c and sends it the current status.
func (b *statusBoard) add(c *transport.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !c.Open() {
		return // closed meanwhile: its OnClose may already have run
	}
	b.subs.Add(c)
	c.Send(b.frameLocked(), transport.Keep, 0)
}

func (b *statusBoard) remove(c *transport.Conn) {
	b.mu.Lock()
	b.subs.Remove(c)
	b.mu.Unlock()
}

// snapshot copies the products' states for REST.
func (b *statusBoard) snapshot() []productStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]productStatus(nil), b.states...)
}

func (b *statusBoard) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subs.Len()
}
