//go:build linux

package netpoll

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// wait bounds every wait for a callback: generous, since a slow or loaded CI
// machine must not fail a test; it only ends a broken one.
const wait = 10 * time.Second

// fixture is a Poller plus a 127.0.0.1 listener to make connection pairs, and
// a marker connection used as a barrier. All are closed at test end.
type fixture struct {
	tb     testing.TB
	p      *Poller
	ln     *net.TCPListener
	marker *recorder
	mfd    int
	mpeer  *net.TCPConn
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	p, err := New(Config{OnError: func(err error) { tb.Errorf("OnError: %v", err) }})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { p.Close() })
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	tb.Cleanup(func() { ln.Close() })
	f := &fixture{tb: tb, p: p, ln: ln, marker: newRecorder()}
	f.mpeer, _, f.mfd = f.pair()
	f.add(f.mfd, EventRead, f.marker.handle)
	return f
}

// pair dials the listener and returns the client end, the server end and the
// server end's descriptor.
func (f *fixture) pair() (client, server *net.TCPConn, fd int) {
	f.tb.Helper()
	client, err := net.DialTCP("tcp4", nil, f.ln.Addr().(*net.TCPAddr))
	if err != nil {
		f.tb.Fatalf("dial: %v", err)
	}
	f.tb.Cleanup(func() { client.Close() })
	server, err = f.ln.AcceptTCP()
	if err != nil {
		f.tb.Fatalf("accept: %v", err)
	}
	f.tb.Cleanup(func() { server.Close() })
	fd, err = FD(server)
	if err != nil {
		f.tb.Fatalf("FD: %v", err)
	}
	return client, server, fd
}

func (f *fixture) add(fd int, ev Event, h func(int, Event)) {
	f.tb.Helper()
	if err := f.p.Add(fd, ev, h); err != nil {
		f.tb.Fatalf("Add(%d, %v): %v", fd, ev, err)
	}
}

func (f *fixture) resume(fd int) {
	f.tb.Helper()
	if err := f.p.Resume(fd); err != nil {
		f.tb.Fatalf("Resume(%d): %v", fd, err)
	}
}

// barrier returns once every event fetched by the epoll_wait calls made so
// far has been dispatched: the marker fires twice, and being one-shot its
// second call comes from a later epoll_wait than its first.
func (f *fixture) barrier() {
	f.tb.Helper()
	for range 2 {
		write(f.tb, f.mpeer, "m")
		if c := f.marker.next(f.tb); c.fd != f.mfd {
			f.tb.Fatalf("marker call for fd %d, want %d", c.fd, f.mfd)
		}
		if got := read(f.tb, f.mfd); got != "m" {
			f.tb.Fatalf("marker read %q, want %q", got, "m")
		}
		f.resume(f.mfd)
	}
}

// call is one handler invocation.
type call struct {
	fd int
	ev Event
}

// recorder is a handler that queues its calls without blocking; overflow
// means a runaway poller and fails the test.
type recorder struct {
	calls    chan call
	overflow atomic.Bool
}

func newRecorder() *recorder { return &recorder{calls: make(chan call, 64)} }

func (r *recorder) handle(fd int, ev Event) {
	select {
	case r.calls <- call{fd, ev}:
	default:
		r.overflow.Store(true)
	}
}

// next returns the next call, failing after wait.
func (r *recorder) next(tb testing.TB) call {
	tb.Helper()
	select {
	case c := <-r.calls:
		return c
	case <-time.After(wait):
		tb.Fatalf("no handler call within %v", wait)
		return call{}
	}
}

// none fails if a call is queued; use it after fixture.barrier.
func (r *recorder) none(tb testing.TB, why string) {
	tb.Helper()
	select {
	case c := <-r.calls:
		tb.Fatalf("%s: unexpected call fd %d ev %v", why, c.fd, c.ev)
	default:
	}
	if r.overflow.Load() {
		tb.Fatalf("%s: handler called more than %d times", why, cap(r.calls))
	}
}

func write(tb testing.TB, c *net.TCPConn, s string) {
	tb.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// read reads what is buffered on fd without blocking, as callers do.
func read(tb testing.TB, fd int) string {
	tb.Helper()
	var buf [64]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil {
		tb.Fatalf("read fd %d: %v", fd, err)
	}
	return string(buf[:n])
}

// waitReadable returns once fd has data queued in the kernel, so that its
// readiness is already on every epoll ready list watching it.
func waitReadable(tb testing.TB, fd int) {
	tb.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, int(wait/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil || n != 1 {
			tb.Fatalf("fd %d not readable within %v: n=%d err=%v", fd, wait, n, err)
		}
		return
	}
}

// eventually polls cond until it holds, failing after wait.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testwait.For(tb, wait, what, func() (string, bool) { return "not yet", cond() })
}
