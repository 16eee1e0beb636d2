package transport

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// TestRoundOneWrite sends ten frames to a connection within a Round: none
// is written before End, and End writes them in one writev (the write delay
// histogram counts one observation per writev).
func TestRoundOneWrite(t *testing.T) {
	var (
		mu   sync.Mutex
		conn *Conn
	)
	h := Handlers{OnMessage: func(c *Conn, _ []byte) {
		mu.Lock()
		conn = c
		mu.Unlock()
		c.Ready()
	}}
	s, addr := startTransport(t, Config{}, h)
	nc := dial(t, addr, 0)
	wsutil.WriteClientText(nc, []byte("go"))
	testwait.For(t, 5*time.Second, "the connection's first message", func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return "no message yet", conn != nil
	})
	writes := func() uint64 { return s.Stats().WriteDelay.Snapshot().Count }
	before, framesBefore := writes(), s.Stats().FramesOut.Load()
	var r Round
	for i := range 10 {
		conn.SendIn(&r, text(fmt.Sprintf("frame %d", i)), Latest, StreamKey(i))
	}
	conn.mu.Lock()
	queued := len(conn.out)
	conn.mu.Unlock()
	if queued != 10 || writes() != before {
		t.Fatalf("%d frames queued, %d writes before End; want 10 queued, none written", queued, writes()-before)
	}
	r.End()
	for i := range 10 {
		if _, b := readFrame(t, nc); string(b) != fmt.Sprintf("frame %d", i) {
			t.Fatalf("frame %d: %q", i, b)
		}
	}
	testwait.For(t, 5*time.Second, "the writes to be counted", func() (string, bool) {
		n := s.Stats().FramesOut.Load() - framesBefore
		return fmt.Sprintf("%d frames counted", n), n == 10
	})
	if n := writes() - before; n != 1 {
		t.Fatalf("the round's 10 frames left in %d writes, want 1", n)
	}
}
