package attack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/shopspring/decimal"
)

// l2msg is a level2 message as tickerfan sends it, with its sequence extension.
type l2msg struct {
	Type      string      `json:"type"`
	ProductID string      `json:"product_id"`
	Bids      [][2]string `json:"bids"`
	Asks      [][2]string `json:"asks"`
	Changes   [][3]string `json:"changes"`
	Sequence  uint64      `json:"sequence"`
}

// l2book is a level2 book keyed by normalized price.
type l2book struct{ bids, asks map[string]string }

func newBook(m *l2msg) l2book {
	b := l2book{bids: map[string]string{}, asks: map[string]string{}}
	for _, l := range m.Bids {
		b.bids[norm(l[0])] = norm(l[1])
	}
	for _, l := range m.Asks {
		b.asks[norm(l[0])] = norm(l[1])
	}
	return b
}

func (b l2book) apply(changes [][3]string) {
	for _, c := range changes {
		side := b.bids
		if c[0] == "sell" {
			side = b.asks
		}
		if size := norm(c[2]); size == "0" {
			delete(side, norm(c[1]))
		} else {
			side[norm(c[1])] = size
		}
	}
}

func (b l2book) equal(o l2book) bool {
	return mapsEqual(b.bids, o.bids) && mapsEqual(b.asks, o.asks)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// norm spells a decimal one way ("100.50" and "100.5" are one price).
func norm(s string) string {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "bad:" + s
	}
	return d.String()
}

// canary is a level2 subscriber that keeps the book from the snapshot and
// every l2update, and fails at the first gap in the sequence, message that
// is not JSON, or lost connection. Its reading goroutine is started by
// startCanary and stopped by stop, which waits for it.
type canary struct {
	nc      net.Conn
	product string
	done    chan struct{}

	mu      sync.Mutex
	book    l2book
	seq     uint64
	err     error
	want    *l2msg // a reference snapshot to compare with at its sequence
	checked chan bool
}

// startCanary subscribes and waits for the snapshot.
func startCanary(ctx context.Context, host, product string) (*canary, error) {
	nc, first, err := subscribeLevel2(ctx, host, product)
	if err != nil {
		return nil, err
	}
	c := &canary{nc: nc, product: product, done: make(chan struct{}), book: newBook(first), seq: first.Sequence}
	go c.read()
	return c, nil
}

// subscribeLevel2 opens a level2 subscription and returns its snapshot.
func subscribeLevel2(ctx context.Context, host, product string) (net.Conn, *l2msg, error) {
	nc, err := upgrade(ctx, host)
	if err != nil {
		return nil, nil, err
	}
	req := fmt.Sprintf(`{"type":"subscribe","product_ids":[%q],"channels":["level2"]}`, product)
	if err := wsutil.WriteClientText(nc, []byte(req)); err != nil {
		nc.Close()
		return nil, nil, err
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer nc.SetReadDeadline(time.Time{})
	for {
		m, err := readL2(nc)
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		if m.Type == "snapshot" {
			return nc, m, nil
		}
	}
}

func readL2(nc net.Conn) (*l2msg, error) {
	data, err := wsutil.ReadServerText(nc)
	if err != nil {
		return nil, err
	}
	var m l2msg
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("message is not JSON: %v: %.200q", err, data)
	}
	return &m, nil
}

func (c *canary) read() {
	defer close(c.done)
	for {
		m, err := readL2(c.nc)
		if err != nil {
			c.fail(fmt.Errorf("connection lost: %w", err))
			return
		}
		if m.Type != "l2update" {
			continue
		}
		c.mu.Lock()
		if m.Sequence != c.seq+1 {
			c.mu.Unlock()
			c.fail(fmt.Errorf("sequence gap: %d after %d", m.Sequence, c.seq))
			return
		}
		c.book.apply(m.Changes)
		c.seq = m.Sequence
		c.compareLocked()
		c.mu.Unlock()
	}
}

// compareLocked checks the book against the reference once at its sequence.
// mu must be held.
func (c *canary) compareLocked() {
	if c.want == nil || c.seq < c.want.Sequence {
		return
	}
	ok := c.seq == c.want.Sequence && c.book.equal(newBook(c.want))
	if c.seq == c.want.Sequence && !ok && c.err == nil {
		c.err = fmt.Errorf("book differs from a fresh snapshot at sequence %d", c.seq)
	}
	c.want = nil
	c.checked <- ok
}

func (c *canary) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !errors.Is(err, net.ErrClosed) {
		c.err = err
	}
}

// ok reports whether the canary has seen nothing wrong.
func (c *canary) ok() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == nil
}

// verify compares the canary's book with fresh snapshots, retrying when the
// canary was already past a snapshot's sequence, and says how it went.
func (c *canary) verify(ctx context.Context, host string) string {
	matched := 0
	for try := 0; try < 5 && matched < 2; try++ {
		nc, ref, err := subscribeLevel2(ctx, host, c.product)
		if err != nil {
			c.fail(fmt.Errorf("reference snapshot: %w", err))
			break
		}
		nc.Close()
		if ok, checked := c.check(ref); checked && ok {
			matched++
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err.Error()
	}
	if matched == 0 {
		c.err = errors.New("no fresh snapshot could be compared")
		return c.err.Error()
	}
	return fmt.Sprintf("exact (%d checks, seq %d)", matched, c.seq)
}

// check hands ref to the reader and waits until it has compared it; checked
// is false when the canary was already past ref's sequence.
func (c *canary) check(ref *l2msg) (ok, checked bool) {
	c.mu.Lock()
	if c.seq > ref.Sequence || c.err != nil {
		c.mu.Unlock()
		return false, false
	}
	c.checked = make(chan bool, 1)
	c.want = ref
	ch := c.checked
	c.compareLocked() // when already at its sequence
	c.mu.Unlock()
	select {
	case ok := <-ch:
		return ok, true
	case <-time.After(5 * time.Second):
		c.fail(fmt.Errorf("no update up to sequence %d within 5s", ref.Sequence))
		return false, true
	case <-c.done:
		return false, true
	}
}

// stop closes the connection and waits for the reader.
func (c *canary) stop() {
	c.nc.Close()
	<-c.done
}

// upgrade opens a WebSocket connection to host.
func upgrade(ctx context.Context, host string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nc, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+host+"/")
	if err != nil {
		return nil, err
	}
	if br != nil {
		ws.PutReader(br) // tickerfan sends nothing before the client's subscribe
	}
	return nc, nil
}
