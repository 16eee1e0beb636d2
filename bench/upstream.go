package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// UpstreamConfig tunes the bench's own Coinbase-protocol upstream feed. Its
// zero value is a working default.
type UpstreamConfig struct {
	// Products is how many products it carries, named T001-USD, T002-USD, ...
	// Default 8, at most 10000.
	Products int `yaml:"products"`
	// UpdatesPerSecond is the l2update rate per product. Default 50, at most 100000.
	UpdatesPerSecond float64 `yaml:"updates_per_second"`
	// TradesPerSecond is the trade rate per product; each trade is a match and
	// a ticker message. Default 2, at most 10000.
	TradesPerSecond float64 `yaml:"trades_per_second"`
	// Depth is the number of levels per side of each book. Default 20, at most 1000.
	Depth int `yaml:"depth"`
	// Tick is the send period: each tick sends what the rates owe, in one
	// write per connection. Default 10ms, between 1ms and 1s.
	Tick time.Duration `yaml:"tick"`
}

// WithDefaults fills every zero field with its default.
func (c UpstreamConfig) WithDefaults() UpstreamConfig {
	setDefault(&c.Products, 8)
	setDefault(&c.UpdatesPerSecond, 50)
	setDefault(&c.TradesPerSecond, 2)
	setDefault(&c.Depth, 20)
	setDefault(&c.Tick, 10*time.Millisecond)
	return c
}

// Validate reports fields out of range.
func (c UpstreamConfig) Validate() error {
	var errs []error
	check := func(field string, v, hi float64) {
		if v < 0 || v > hi {
			errs = append(errs, yamlconf.Errorf(field, "must be between 0 and %g (got %g); 0 means the default", hi, v))
		}
	}
	check("products", float64(c.Products), 10000)
	check("updates_per_second", c.UpdatesPerSecond, 100000)
	check("trades_per_second", c.TradesPerSecond, 10000)
	check("depth", float64(c.Depth), 1000)
	if c.Tick != 0 && (c.Tick < time.Millisecond || c.Tick > time.Second) {
		errs = append(errs, yamlconf.Errorf("tick", "must be between 1ms and 1s (got %s)", c.Tick))
	}
	return errors.Join(errs...)
}

// UpstreamProducts returns the product ids an upstream of n products carries.
func UpstreamProducts(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("T%03d-USD", i+1)
	}
	return ids
}

// Sent counts what the upstream sent of one product, over all its
// connections.
type Sent struct {
	Product   string `json:"product"`
	L2Updates int64  `json:"l2update"`
	Matches   int64  `json:"match"`
	Tickers   int64  `json:"ticker"`
}

type sentCounters struct {
	l2, match, ticker atomic.Int64
}

// Upstream is a Coinbase Exchange-protocol WebSocket feed on loopback: it
// answers subscribes, sends a level2 snapshot, then l2update, match, ticker
// and heartbeat messages at the configured rates. Each message's "time" is
// its send time with microseconds. ticker, match and heartbeat carry the
// product's increasing "sequence", as Coinbase's do; snapshot and l2update
// carry tickerfan's level2 extension, a sequence that grows by exactly 1 per
// update (PROTOCOL.md), so a relaying feed can check it. It exists so
// that latency can be measured from upstream send to subscriber receive.
//
// StartUpstream starts its accept goroutine and, per connection, a reader
// and a sender goroutine; Close stops them all and waits.
type Upstream struct {
	cfg      UpstreamConfig
	ln       net.Listener
	products []string
	index    map[string]int
	sent     []sentCounters

	mu    sync.Mutex // guards conns; taken before any upConn.mu
	conns map[*upConn]struct{}
	// frozen stops l2updates and trades (FreezeBooks); senders read it
	// under their upConn.mu.
	frozen atomic.Bool
	wg     sync.WaitGroup
	done   chan struct{}
	once   sync.Once
}

// StartUpstream listens on addr (a loopback host:port) and serves until Close.
func StartUpstream(addr string, cfg UpstreamConfig) (*Upstream, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench: upstream: %w", err)
	}
	u := &Upstream{
		cfg: cfg, ln: ln, products: UpstreamProducts(cfg.Products),
		sent: make([]sentCounters, cfg.Products), conns: map[*upConn]struct{}{}, done: make(chan struct{}),
	}
	u.index = make(map[string]int, len(u.products))
	for i, id := range u.products {
		u.index[id] = i
	}
	u.wg.Add(1)
	go u.accept()
	return u, nil
}

// URL is the WebSocket URL to point a feed at.
func (u *Upstream) URL() string { return "ws://" + u.ln.Addr().String() }

// Products returns the product ids the upstream carries.
func (u *Upstream) Products() []string { return slices.Clone(u.products) }

// Connections returns how many feed connections are open.
func (u *Upstream) Connections() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.conns)
}

// Sent returns the per-product send counters.
func (u *Upstream) Sent() []Sent {
	s, _ := u.SentAt()
	return s
}

// SentAt returns the send counters and the instant they describe: every
// message stamped with a "time" before it is counted, none stamped after. It
// holds every connection's lock while it reads, and a connection stamps and
// counts a tick's messages under its lock.
func (u *Upstream) SentAt() ([]Sent, time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for c := range u.conns {
		c.mu.Lock()
		defer c.mu.Unlock()
	}
	at := time.Now()
	out := make([]Sent, len(u.products))
	for i := range out {
		c := &u.sent[i]
		out[i] = Sent{Product: u.products[i], L2Updates: c.l2.Load(), Matches: c.match.Load(), Tickers: c.ticker.Load()}
	}
	return out, at
}

// Close stops accepting, closes every connection and waits for the goroutines.
func (u *Upstream) Close() error {
	u.once.Do(func() {
		close(u.done)
		u.ln.Close()
		u.mu.Lock()
		for c := range u.conns {
			c.nc.Close()
		}
		u.mu.Unlock()
	})
	u.wg.Wait()
	return nil
}

func (u *Upstream) accept() {
	defer u.wg.Done()
	for {
		nc, err := u.ln.Accept()
		if err != nil {
			return // closed
		}
		u.wg.Add(1)
		go u.serve(nc)
	}
}

// serve upgrades one connection and runs its reader; the sender runs beside
// it. Both end when the connection or the Upstream closes.
func (u *Upstream) serve(nc net.Conn) {
	defer u.wg.Done()
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	nc.SetDeadline(time.Time{})
	c := newUpConn(u, nc)
	u.mu.Lock()
	select {
	case <-u.done:
		u.mu.Unlock()
		return
	default:
	}
	u.conns[c] = struct{}{}
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.conns, c)
		u.mu.Unlock()
	}()
	stop := make(chan struct{})
	u.wg.Add(1)
	go c.send(stop)
	c.read()
	close(stop)
}

// upConn is one feed connection: its subscription and a book per product.
type upConn struct {
	u  *Upstream
	nc net.Conn
	br *bufio.Reader

	mu    sync.Mutex // guards subs, books and writes to nc
	subs  map[string]map[int]bool
	books []*upBook
	out   []byte
}

func newUpConn(u *Upstream, nc net.Conn) *upConn {
	c := &upConn{u: u, nc: nc, br: bufio.NewReader(nc), subs: map[string]map[int]bool{}}
	c.books = make([]*upBook, len(u.products))
	for i, id := range u.products {
		c.books[i] = newUpBook(id, i, u.cfg.Depth)
	}
	return c
}

// read handles the client's frames until the connection ends.
func (c *upConn) read() {
	for {
		h, err := ws.ReadHeader(c.br)
		if err != nil || h.Length > 1<<20 {
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			c.write(appendFrame(nil, ws.OpClose, payload))
			return
		case ws.OpPing:
			c.write(appendFrame(nil, ws.OpPong, payload))
		case ws.OpText:
			c.request(payload)
		}
	}
}

// wireRequest is a client's subscribe or unsubscribe.
type wireRequest struct {
	Type       string            `json:"type"`
	ProductIDs []string          `json:"product_ids"`
	Channels   []json.RawMessage `json:"channels"`
}

// request applies a subscribe or unsubscribe and answers it as Coinbase does.
func (c *upConn) request(payload []byte) {
	var req wireRequest
	if err := json.Unmarshal(payload, &req); err != nil || (req.Type != "subscribe" && req.Type != "unsubscribe") {
		c.write(appendFrame(nil, ws.OpText, errorMessage("Malformed JSON", "")))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var fresh []int // products newly subscribed on a level2 channel
	for _, raw := range req.Channels {
		name, ids := req.channel(raw)
		if !slices.Contains(knownChannels, name) {
			c.out = appendFrame(c.out, ws.OpText, errorMessage("Failed to subscribe", name+" is not a valid channel"))
			continue
		}
		for _, id := range ids {
			i, ok := c.u.index[id]
			if !ok {
				c.out = appendFrame(c.out, ws.OpText, errorMessage("Failed to subscribe", id+" is not a valid product"))
				continue
			}
			if req.Type == "unsubscribe" {
				delete(c.subs[name], i)
				continue
			}
			if c.subs[name] == nil {
				c.subs[name] = map[int]bool{}
			}
			if !c.subs[name][i] && isLevel2(name) {
				fresh = append(fresh, i)
			}
			c.subs[name][i] = true
		}
	}
	c.out = appendFrame(c.out, ws.OpText, c.subscriptions())
	for _, i := range fresh {
		c.out = appendFrame(c.out, ws.OpText, c.books[i].snapshot())
	}
	c.flushLocked()
}

// channel reads one channels entry: a name, or {name, product_ids}.
func (r *wireRequest) channel(raw json.RawMessage) (string, []string) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return name, r.ProductIDs
	}
	var obj struct {
		Name       string   `json:"name"`
		ProductIDs []string `json:"product_ids"`
	}
	json.Unmarshal(raw, &obj)
	if len(obj.ProductIDs) == 0 {
		obj.ProductIDs = r.ProductIDs
	}
	return obj.Name, obj.ProductIDs
}

func isLevel2(name string) bool {
	return name == "level2" || name == "level2_batch" || name == "level2_50"
}

// subscriptions encodes the whole subscription state. mu must be held.
func (c *upConn) subscriptions() []byte {
	type entry struct {
		Name       string   `json:"name"`
		ProductIDs []string `json:"product_ids"`
	}
	msg := struct {
		Type     string  `json:"type"`
		Channels []entry `json:"channels"`
	}{Type: "subscriptions", Channels: []entry{}}
	for _, name := range sortedKeys(c.subs) {
		var ids []string
		for i := range c.u.products {
			if c.subs[name][i] {
				ids = append(ids, c.u.products[i])
			}
		}
		if len(ids) > 0 {
			msg.Channels = append(msg.Channels, entry{name, ids})
		}
	}
	b, _ := json.Marshal(msg)
	return b
}

func errorMessage(message, reason string) []byte {
	b, _ := json.Marshal(map[string]string{"type": "error", "message": message, "reason": reason})
	return b
}

// send is the connection's sender goroutine (serve starts it, stop ends it):
// every tick it builds what the rates owe for each subscribed product,
// stamps it with the current time and writes it in one go.
func (c *upConn) send(stop chan struct{}) {
	defer c.u.wg.Done()
	cfg := c.u.cfg
	t := time.NewTicker(cfg.Tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-c.u.done:
			return
		case <-t.C:
		}
		c.mu.Lock()
		now := time.Now() // under mu: see SentAt
		dt := now.Sub(last).Seconds()
		last = now
		if c.u.frozen.Load() { // under mu: see FreezeBooks
			dt = 0 // nothing more is owed; heartbeats go on
		}
		for i, b := range c.books {
			c.tick(b, i, now, dt)
		}
		ok := c.flushLocked()
		c.mu.Unlock()
		if !ok {
			return
		}
	}
}

// tick emits one product's messages for a tick of dt seconds. mu must be held.
func (c *upConn) tick(b *upBook, i int, now time.Time, dt float64) {
	l2 := c.subscribedLevel2(i)
	ticker, matches := c.subs["ticker"][i], c.subs["matches"][i]
	cnt := &c.u.sent[i]
	b.l2Owed += c.u.cfg.UpdatesPerSecond * dt
	for ; b.l2Owed >= 1; b.l2Owed-- {
		msg := b.update(now)
		if l2 {
			c.out = appendFrame(c.out, ws.OpText, msg)
			cnt.l2.Add(1)
		}
	}
	b.tradesOwed += c.u.cfg.TradesPerSecond * dt
	for ; b.tradesOwed >= 1; b.tradesOwed-- {
		match, tick := b.trade(now)
		if matches {
			c.out = appendFrame(c.out, ws.OpText, match)
			cnt.match.Add(1)
		}
		if ticker {
			c.out = appendFrame(c.out, ws.OpText, tick)
			cnt.ticker.Add(1)
		}
	}
	if c.subs["heartbeat"][i] && now.Sub(b.lastHeartbeat) >= time.Second {
		b.lastHeartbeat = now
		c.out = appendFrame(c.out, ws.OpText, b.heartbeat(now))
	}
}

func (c *upConn) subscribedLevel2(i int) bool {
	return c.subs["level2"][i] || c.subs["level2_batch"][i] || c.subs["level2_50"][i]
}

// flushLocked writes the pending frames. mu must be held. It reports false
// when the connection failed.
func (c *upConn) flushLocked() bool {
	if len(c.out) == 0 {
		return true
	}
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if err != nil {
		c.nc.Close()
		return false
	}
	return true
}

func (c *upConn) write(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, frame...)
	c.flushLocked()
}
