package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Client is a subscriber that stays connected: see the package comment. Its
// methods are safe for concurrent use.
//
// Lock order: wmu before mu.
type Client struct {
	cfg  Config
	msgs chan Message

	// wmu serializes requests: it is held while a request is built from the
	// subscription state, written, and its reply awaited in order (waiters).
	wmu sync.Mutex

	// mu guards everything below; never held across I/O.
	mu      sync.Mutex
	conn    *conn // nil while disconnected
	subs    subscriptions
	books   map[string]*Book // exact books of the products on a level-2 channel, by product
	synced  map[string]bool  // books that hold a snapshot and every update since
	resumed map[string]bool  // books asked to resume on this connection, not yet confirmed
	waiters []chan error     // one per request in flight, oldest first; nil for the client's own
	stats   Stats

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when the run goroutine has returned
}

// Stats counts what the client did since Dial.
type Stats struct {
	Connects  uint64 // connections established, the first included
	Snapshots uint64 // level-2 snapshots applied
	Updates   uint64 // l2updates applied
	Checksums uint64 // books verified against the server's checksum
	Resyncs   uint64 // books resubscribed after a gap or a checksum mismatch
	Resumes   uint64 // books continued across a reconnect without a snapshot
}

// Dial connects to cfg.URL and returns a Client, or the error of that first
// attempt (later connections are retried forever, until Close). Subscribe
// soon after: the server closes connections that subscribe to nothing. The
// Client owns one goroutine, which Close stops.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	nc, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg: cfg, msgs: make(chan Message, cfg.Buffer), subs: subscriptions{},
		books: map[string]*Book{}, synced: map[string]bool{}, resumed: map[string]bool{},
		closing: make(chan struct{}), done: make(chan struct{}),
	}
	if err := c.attach(nc); err != nil {
		return nil, err
	}
	go c.run(nc)
	return c, nil
}

// Messages returns the channel every message arrives on, in the order
// received. It is closed after Close. Read it without stopping for long:
// while it is full, the client reads nothing.
func (c *Client) Messages() <-chan Message { return c.msgs }

// Subscribe adds channels for products (the status channel takes none) and
// waits for the server to accept them: it returns the server's *Error when
// refused, leaving the subscriptions as they were. While disconnected, it
// records them for the next connection and returns nil. The client
// subscribes again to everything after each reconnect.
func (c *Client) Subscribe(ctx context.Context, products []string, channels ...string) error {
	if err := checkArgs(products, channels); err != nil {
		return err
	}
	c.wmu.Lock()
	c.mu.Lock()
	if p := c.subs.conflict(channels, products); p != "" {
		c.mu.Unlock()
		c.wmu.Unlock()
		return fmt.Errorf("%w: %s", ErrTwoLevel2, p)
	}
	added := c.subs.add(channels, products)
	c.mu.Unlock()
	reply, err := c.send(newRequest("subscribe", channels, products, c.cfg.Checksum))
	if err != nil {
		return err
	}
	if err := c.await(ctx, reply); err != nil {
		var refused *Error
		if errors.As(err, &refused) {
			c.mu.Lock()
			c.subs.remove(added)
			c.mu.Unlock()
		}
		return err
	}
	return nil
}

// Unsubscribe drops channels for products (all of a channel's products
// when products is empty) and waits for the server's answer, as Subscribe.
func (c *Client) Unsubscribe(ctx context.Context, products []string, channels ...string) error {
	if len(channels) == 0 {
		return ErrNoChannels
	}
	c.wmu.Lock()
	c.mu.Lock()
	if len(products) == 0 {
		for _, ch := range channels {
			c.subs.removeAll([]string{ch}, keys(c.subs[ch]))
		}
	} else {
		c.subs.removeAll(channels, products)
	}
	for id := range c.books {
		if c.subs.level2Of(id) == "" {
			delete(c.books, id)
			delete(c.synced, id)
		}
	}
	c.mu.Unlock()
	reply, err := c.send(newRequest("unsubscribe", channels, products, false))
	if err != nil {
		return err
	}
	return c.await(ctx, reply)
}

// Book returns a copy of product's exact book, or false while the client
// holds none (not subscribed to a level-2 channel, or waiting for a
// snapshot).
func (c *Client) Book(product string) (*Book, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.books[product]
	if b == nil || !c.synced[product] {
		return nil, false
	}
	return b.Clone(), true
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close closes the connection, stops reconnecting, and waits for the
// client's goroutine; Messages is closed then.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.mu.Lock()
		if c.conn != nil {
			c.conn.close()
		}
		c.mu.Unlock()
	})
	<-c.done
	return nil
}

func checkArgs(products, channels []string) error {
	if len(channels) == 0 {
		return ErrNoChannels
	}
	if len(products) == 0 && !(len(channels) == 1 && channels[0] == "status") {
		return ErrNoProducts
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
