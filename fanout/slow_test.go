package fanout

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// dialSmall dials with a tiny receive buffer so a client that stops reading
// backs the server up quickly.
func dialSmall(t *testing.T, addr string) *client {
	t.Helper()
	d := ws.Dialer{NetDial: func(ctx context.Context, network, a string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		}}
		return nd.DialContext(ctx, network, a)
	}}
	return dialWith(t, d, addr)
}

// A subscriber that stops reading is conflated, not disconnected, and its
// book is exact again once it reads: PROTOCOL.md, slow consumers.
func TestSlowConsumerConflatesAndStaysExact(t *testing.T) {
	cfg := Config{MaxQueueBytes: 64 << 10, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute}
	ts := startServer(t, cfg, simOpts{updates: 4000, trades: 50, products: []string{"BTC-USD"}})
	c := dialSmall(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2","ticker"]}`)

	waitConflated(t, ts, 20*time.Second, "no conflation within 20s of not reading")
	if c2 := ts.srv.tr.Len(); c2 != 1 {
		t.Fatalf("slow consumer was disconnected (%d connections)", c2)
	}

	cb := &clientBook{}
	snapshots, _ := readBook(t, c, cb, 1500*time.Millisecond)
	if snapshots < 2 {
		t.Fatalf("got %d snapshots; a conflated subscriber must get a fresh one", snapshots)
	}
	if ts.srv.metrics.resyncs.Load() == 0 {
		t.Fatal("resync counter did not move")
	}
	ts.stop()
	var rest struct {
		Bids, Asks [][]any
		Sequence   float64
	}
	getJSON(t, "http://"+ts.addr+"/products/BTC-USD/book?level=2", &rest)
	for cb.seq < rest.Sequence {
		m := c.next(5 * time.Second)
		switch m["type"] {
		case "snapshot":
			cb.snapshot(t, m)
		case "l2update":
			cb.update(t, m)
		}
	}
	bids, asks := cb.b.Top(0, nil, nil)
	if fmtLevels(bids) != fmtRest(rest.Bids) || fmtLevels(asks) != fmtRest(rest.Asks) {
		t.Fatalf("client book differs from the server's after conflation")
	}
}

// A snapshot larger than max_queue_bytes must not make a reading subscriber
// loop through conflation and fresh snapshots forever.
func TestSnapshotLargerThanQueueLimit(t *testing.T) {
	ts := startServer(t, Config{MaxQueueBytes: 64 << 10, SendBufferBytes: 8 << 10}, simOpts{updates: 500, trades: 5, depth: 2000, products: []string{"BTC-USD"}})
	c := dialSmall(t, ts.addr) // reads steadily, but a 140 KB snapshot takes many round trips
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	// Not reading yet: updates come while the snapshot is still queued.
	start := restSequence(t, ts.addr, "BTC-USD")
	testwait.For(t, 5*time.Second, "50 updates behind the queued snapshot", func() (string, bool) {
		seq := restSequence(t, ts.addr, "BTC-USD")
		return fmt.Sprintf("%v updates", seq-start), seq-start >= 50
	})
	cb := &clientBook{}
	snapshots, updates := readBook(t, c, cb, 2*time.Second)
	if n := cb.b.Len(model.Buy) + cb.b.Len(model.Sell); n < 2000 {
		t.Fatalf("book of %d levels, want the deep one", n)
	}
	if snapshots != 1 || updates < 100 {
		t.Fatalf("got %d snapshots and %d updates in 2s; want 1 snapshot then a steady stream", snapshots, updates)
	}
}

// A subscriber that falls further behind than max_queue_delay is conflated
// even though its queue is far from max_queue_bytes, and is exact again once
// it reads.
func TestQueueDelayBoundsLag(t *testing.T) {
	cfg := Config{MaxQueueBytes: 256 << 20, MaxQueueDelay: 500 * time.Millisecond, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute}
	ts := startServer(t, cfg, simOpts{updates: 2000, trades: 20, products: []string{"BTC-USD"}})
	c := dialSmall(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	waitConflated(t, ts, 20*time.Second, "no conflation within 20s of not reading, with max_queue_delay 500ms")
	cb := &clientBook{}
	snapshots, _ := readBook(t, c, cb, time.Second)
	if snapshots < 2 {
		t.Fatalf("%d snapshots: a conflated subscriber must get a fresh one", snapshots)
	}
}

// With the kernel's own socket buffers (no send_buffer_bytes), a stalled
// subscriber is still conflated within max_queue_delay: kernel_unsent_bytes
// keeps its backlog in the queue instead of in a socket buffer the kernel
// grows by itself.
func TestKernelUnsentBytesKeepsBacklogVisible(t *testing.T) {
	// KernelUnsentBytes left 0: the default, 16 KiB. With -1 (the kernel's
	// own behaviour) this test fails: nothing is conflated within 4 s.
	cfg := Config{MaxQueueDelay: 300 * time.Millisecond, WriteTimeout: time.Minute}
	ts := startServer(t, cfg, simOpts{updates: 1000, trades: 10, products: []string{"BTC-USD", "ETH-USD"}})
	c := dialSmall(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2"]}`)
	waitConflated(t, ts, 4*time.Second, "a stalled subscriber was not conflated within 4s with the default kernel_unsent_bytes")
}

// waitConflated waits until /metrics shows the server has conflated
// something, or fails with why after within.
func waitConflated(t *testing.T, ts *testServer, within time.Duration, why string) {
	t.Helper()
	testwait.For(t, within, why, func() (string, bool) {
		n := metricValue(t, ts.addr, "tickerfan_queue_drops_total")
		return fmt.Sprintf("tickerfan_queue_drops_total %v", n), n > 0
	})
}

// readBook reads level2 messages for d, keeping cb from every snapshot and
// update (each checked as it applies), and counts them.
func readBook(t *testing.T, c *client, cb *clientBook, d time.Duration) (snapshots, updates int) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		m := c.next(5 * time.Second)
		switch m["type"] {
		case "snapshot":
			snapshots++
			cb.snapshot(t, m)
		case "l2update":
			updates++
			cb.update(t, m)
		}
	}
	return snapshots, updates
}
