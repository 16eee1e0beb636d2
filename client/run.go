package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/tickerfan/tickerfan/internal/backoff"
)

// run is the client's goroutine, started by Dial and stopped by Close: it
// serves a connection until it ends, then reconnects after a backoff, until
// Close.
func (c *Client) run(first *conn) {
	defer close(c.done)
	defer close(c.msgs)
	bo := backoff.New(c.cfg.BackoffMin, c.cfg.BackoffMax, rand.Uint64())
	nc, reconnect := first, false
	var err error // why the last connection ended, or the last dial failed
	for {
		if nc != nil {
			if err = c.serve(nc, reconnect, bo); c.isClosing() {
				return
			}
			reconnect = true
		}
		delay := bo.Next()
		if !c.emit(&Disconnected{Err: err, Delay: delay}) || !c.sleep(delay) {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // ends the dial on Close; returns with cancel
			select {
			case <-c.closing:
			case <-ctx.Done():
			}
			cancel()
		}()
		nc, err = dial(ctx, c.cfg)
		cancel()
		if err == nil {
			if err = c.attach(nc); err != nil {
				c.detach(nc)
			}
		}
		if err != nil && c.isClosing() {
			return
		}
		if err != nil {
			nc = nil
		}
	}
}

// serve reads nc, attached, until it fails, and returns why it ended.
func (c *Client) serve(nc *conn, reconnect bool, bo *backoff.Backoff) error {
	defer c.detach(nc)
	go nc.ping(c.cfg.PingInterval)
	if !c.emit(&Connected{URL: c.cfg.URL, Reconnect: reconnect}) {
		return nil
	}
	for {
		data, err := nc.next(2 * c.cfg.PingInterval)
		if err != nil {
			return err
		}
		m, err := Decode(data)
		if err != nil {
			continue // a message this client does not know; Raw-level users see nothing
		}
		switch m := m.(type) {
		case *Subscriptions:
			bo.Reset()
			c.answer(nil)
		case *Error:
			c.answer(m)
		case *Snapshot:
			c.snapshot(m)
		case *L2Update:
			c.update(m)
		}
		if !c.emit(m) {
			return nil
		}
	}
}

// attach makes nc the client's connection and subscribes it to the whole
// state, asking each exact book to resume where it stopped.
func (c *Client) attach(nc *conn) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.isClosing() {
		c.mu.Unlock()
		nc.close()
		return ErrClosed
	}
	c.conn = nc
	c.stats.Connects++
	if len(c.subs) == 0 {
		c.mu.Unlock()
		return nil
	}
	var resume map[string]uint64
	clear(c.resumed)
	for id, b := range c.books {
		if c.synced[id] && !c.cfg.NoResume {
			if resume == nil {
				resume = map[string]uint64{}
			}
			resume[id] = b.Sequence
			c.resumed[id] = true
		}
	}
	req := c.subs.request(c.cfg.Checksum, resume)
	c.waiters = append(c.waiters, nil)
	c.mu.Unlock()
	return nc.write(req)
}

// detach forgets nc and fails the requests in flight on it.
func (c *Client) detach(nc *conn) {
	nc.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = nil
	for _, w := range c.waiters {
		if w != nil {
			w <- errLost
		}
	}
	c.waiters = nil
	if c.cfg.NoResume {
		clear(c.synced)
	}
}

// send writes a request on the current connection and returns the channel
// its answer comes on; nil when disconnected (the request is part of the
// state sent on the next connection). wmu must be held; send releases it.
func (c *Client) send(req []byte) (chan error, error) {
	defer c.wmu.Unlock()
	c.mu.Lock()
	nc := c.conn
	if c.isClosing() {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if nc == nil {
		c.mu.Unlock()
		return nil, nil
	}
	reply := make(chan error, 1)
	c.waiters = append(c.waiters, reply)
	c.mu.Unlock()
	if err := nc.write(req); err != nil {
		nc.close() // the run goroutine sees it, reconnects and sends the state
	}
	return reply, nil
}

// await waits for a request's answer: nil when accepted or when the
// connection was lost first (the state is sent again), the server's *Error
// when refused.
func (c *Client) await(ctx context.Context, reply chan error) error {
	if reply == nil {
		return nil
	}
	select {
	case err := <-reply:
		if errors.Is(err, errLost) {
			return nil
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closing:
		return ErrClosed
	}
}

// answer hands the server's reply to the oldest request in flight.
func (c *Client) answer(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		return
	}
	w := c.waiters[0]
	c.waiters = c.waiters[1:]
	if w != nil {
		w <- err
	}
}

// emit delivers m, or returns false when the client is closing.
func (c *Client) emit(m Message) bool {
	select {
	case c.msgs <- m:
		return true
	case <-c.closing:
		return false
	}
}

// sleep waits d, or returns false when the client is closing.
func (c *Client) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.closing:
		return false
	}
}

func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}
