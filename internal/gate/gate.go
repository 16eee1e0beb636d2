// Package gate starts and tracks the long-lived goroutines of a server, in
// the manner of nats-server's startGoRoutine and grWG: once Close has been
// called, Go refuses, so no goroutine can start after Wait has begun. The
// fan-out server (shards) and its transport (accept loop, handshakes,
// sweeper, pool workers, HTTP Serve) each own one.
package gate

import "sync"

// Gate starts goroutines and waits for them. The zero value is ready.
type Gate struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs fn in a new goroutine and reports true, or reports false without
// running it once close has been called.
func (g *Gate) Go(fn func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1) // under mu: never concurrent with the Wait that follows close
	go func() {
		defer g.wg.Done()
		fn()
	}()
	return true
}

// Close makes Go refuse from now on; it reports whether it was the first call.
func (g *Gate) Close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := !g.closed
	g.closed = true
	return first
}

// Closed reports whether Close has been called.
func (g *Gate) Closed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Wait waits for every goroutine Go started. Call it after Close.
func (g *Gate) Wait() { g.wg.Wait() }
