package client

// snapshot starts or restarts a product's book. The run goroutine calls it.
func (c *Client) snapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs.level2Of(s.ProductID) == "" {
		return
	}
	b := c.books[s.ProductID]
	if b == nil {
		b = &Book{}
		c.books[s.ProductID] = b
	}
	b.Reset(s)
	delete(c.resumed, s.ProductID)
	c.stats.Snapshots++
	c.synced[s.ProductID] = true
	c.check(b, s.Checksum)
}

// update applies an l2update to its book; a gap or a checksum mismatch
// resyncs the book. The run goroutine calls it.
func (c *Client) update(u *L2Update) {
	c.mu.Lock()
	b := c.books[u.ProductID]
	if b == nil || !c.synced[u.ProductID] {
		c.mu.Unlock()
		return // not ours, or waiting for the snapshot of a resync
	}
	if err := b.Apply(u); err != nil {
		c.resync(u.ProductID) // unlocks
		return
	}
	c.stats.Updates++
	if c.resumed[u.ProductID] {
		delete(c.resumed, u.ProductID)
		c.stats.Resumes++
	}
	if !c.check(b, u.Checksum) {
		c.resync(u.ProductID) // unlocks
		return
	}
	c.mu.Unlock()
}

// check verifies b against a server checksum (nil: not asked for). mu must
// be held.
func (c *Client) check(b *Book, sum *uint32) bool {
	if sum == nil {
		return true
	}
	if b.verify(sum) != nil {
		return false
	}
	c.stats.Checksums++
	return true
}

// resync drops product's book and asks for a fresh snapshot: its level-2
// channel is unsubscribed and subscribed again (after the unsubscribe's
// answer no more updates of it arrive; the subscribe brings a snapshot).
// mu must be held; resync releases it, and writes outside it.
func (c *Client) resync(product string) {
	ch := c.subs.level2Of(product)
	c.synced[product] = false
	delete(c.resumed, product)
	c.stats.Resyncs++
	c.mu.Unlock()
	if ch == "" {
		return // unsubscribed meanwhile
	}
	products := []string{product}
	for _, typ := range []string{"unsubscribe", "subscribe"} {
		c.wmu.Lock()
		c.mu.Lock()
		nc := c.conn
		if nc != nil {
			c.waiters = append(c.waiters, nil)
		}
		c.mu.Unlock()
		if nc != nil {
			if err := nc.write(newRequest(typ, []string{ch}, products, c.cfg.Checksum)); err != nil {
				nc.close()
			}
		}
		c.wmu.Unlock()
	}
}
