package bench

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// TestReaderStopsWhileBusy gives a reader a subscriber that is ready again
// every time it is served, as under a server that never stops sending, so
// its queue never empties; closing stop must still end it. It once checked
// stop only when idle, and tickerbench hung at the end of an overload run.
func TestReaderStopsWhileBusy(t *testing.T) {
	c, _ := newTestConn("A")
	sock, err := net.ListenPacket("udp", "127.0.0.1:0") // any socket: its RawConn runs the read
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	if c.rc, err = sock.(*net.UDPConn).SyscallConn(); err != nil {
		t.Fatal(err)
	}
	r := c.r
	c.readFn = func(uintptr) {
		c.rn, c.rerr = 0, unix.EAGAIN
		r.schedule(c) // ready again at once
	}
	c.ctlFn = func(uintptr) {} // the poller re-arm: nothing to re-arm
	stop, done := make(chan struct{}), make(chan struct{})
	r.schedule(c)
	go func() {
		defer close(done)
		r.run(stop)
	}()
	close(stop)
	testwait.For(t, 10*time.Second, "the busy reader to stop", func() (string, bool) {
		select {
		case <-done:
			return "stopped", true
		default:
			return "still reading", false
		}
	})
}
