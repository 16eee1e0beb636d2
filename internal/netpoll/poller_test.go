//go:build linux

package netpoll

import (
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadIsOneShot(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	rec := newRecorder()
	f.add(fd, EventRead, rec.handle)

	write(t, client, "ab")
	if c := rec.next(t); c != (call{fd, EventRead}) {
		t.Fatalf("first call = %+v, want fd %d ev read", c, fd)
	}
	f.barrier()
	rec.none(t, "data unread, not resumed")

	f.resume(fd)
	if c := rec.next(t); c != (call{fd, EventRead}) {
		t.Fatalf("call after Resume = %+v, want fd %d ev read", c, fd)
	}
	if got := read(t, fd); got != "ab" {
		t.Fatalf("read %q, want %q", got, "ab")
	}
	f.resume(fd)
	f.barrier()
	rec.none(t, "drained and resumed")
}

func TestWriteAndModify(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	rec := newRecorder()
	f.add(fd, EventWrite, rec.handle)
	if c := rec.next(t); c != (call{fd, EventWrite}) {
		t.Fatalf("call = %+v, want fd %d ev write", c, fd)
	}

	if err := f.p.Modify(fd, EventRead); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	f.barrier()
	rec.none(t, "read interest, no data")
	write(t, client, "x")
	if c := rec.next(t); c != (call{fd, EventRead}) {
		t.Fatalf("call after Modify = %+v, want fd %d ev read", c, fd)
	}
	f.resume(fd) // data still unread: Resume keeps the modified interest
	if c := rec.next(t); c != (call{fd, EventRead}) {
		t.Fatalf("call after Resume = %+v, want fd %d ev read", c, fd)
	}
}

func TestHup(t *testing.T) {
	cases := []struct {
		name     string
		interest Event
		peer     func(*net.TCPConn) error
		want     Event
	}{
		{"half-close", EventRead, (*net.TCPConn).CloseWrite, EventRead | EventHup},
		{"close", EventRead, (*net.TCPConn).Close, EventRead | EventHup},
		{"close, hup interest only", EventHup, (*net.TCPConn).Close, EventHup},
		{"reset", EventRead, func(c *net.TCPConn) error {
			c.SetLinger(0)
			return c.Close()
		}, EventRead | EventHup},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			client, _, fd := f.pair()
			rec := newRecorder()
			f.add(fd, tc.interest, rec.handle)
			f.barrier()
			rec.none(t, "idle peer")
			if err := tc.peer(client); err != nil {
				t.Fatalf("peer: %v", err)
			}
			if c := rec.next(t); c != (call{fd, tc.want}) {
				t.Fatalf("call = fd %d ev %v, want fd %d ev %v", c.fd, c.ev, fd, tc.want)
			}
		})
	}
}

// TestManyIdle registers 2,000 idle connections: no goroutine per
// connection, and each one's handler fires once when it is written to.
func TestManyIdle(t *testing.T) {
	const conns = 2000
	f := newFixture(t)
	before := runtime.NumGoroutine()

	var fired atomic.Int32
	done := make(chan struct{})
	var counts [1 << 16]atomic.Int32 // by fd
	var badEvent atomic.Uint32
	h := func(fd int, ev Event) {
		counts[fd].Add(1)
		if ev != EventRead {
			badEvent.Store(uint32(ev))
		}
		if fired.Add(1) == conns {
			close(done)
		}
	}
	clients := make([]*net.TCPConn, conns)
	fds := make([]int, conns)
	for i := range conns {
		clients[i], _, fds[i] = f.pair()
		if fds[i] >= len(counts) {
			t.Fatalf("fd %d beyond the test's table", fds[i])
		}
		f.add(fds[i], EventRead, h)
	}
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Fatalf("goroutines grew from %d to %d with %d connections", before, after, conns)
	}
	f.barrier()
	if n := fired.Load(); n != 0 {
		t.Fatalf("%d idle connections reported ready", n)
	}

	for _, c := range clients {
		write(t, c, "x")
	}
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatalf("%d of %d handlers fired within %v", fired.Load(), conns, wait)
	}
	f.barrier()
	for _, fd := range fds {
		if n := counts[fd].Load(); n != 1 {
			t.Fatalf("fd %d: %d calls, want 1", fd, n)
		}
	}
	if ev := badEvent.Load(); ev != 0 {
		t.Fatalf("reported %v, want read", Event(ev))
	}
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	p, err := New(Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	epfd := p.epfd
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-p.done:
	default:
		t.Fatal("Close returned before the poller goroutine exited")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	eventually(t, "goroutine count back to "+strconv.Itoa(before), func() bool {
		return runtime.NumGoroutine() <= before
	})
	if link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(epfd)); link == "anon_inode:[eventpoll]" {
		t.Fatalf("epoll fd %d still open after Close", epfd)
	}
	for name, err := range map[string]error{
		"Add":    p.Add(0, EventRead, func(int, Event) {}),
		"Resume": p.Resume(0),
		"Modify": p.Modify(0, EventRead),
		"Remove": p.Remove(0),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestCloseFromHandler(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	closed := make(chan error, 1)
	f.add(fd, EventRead, func(int, Event) { closed <- f.p.Close() })
	write(t, client, "x")
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close from handler: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Close from handler deadlocked")
	}
	select {
	case <-f.p.done:
	case <-time.After(wait):
		t.Fatal("poller goroutine still running after Close from handler")
	}
}

func TestFD(t *testing.T) {
	f := newFixture(t)
	client, server, fd := f.pair()
	if _, err := unix.Write(fd, []byte("hello")); err != nil {
		t.Fatalf("unix.Write on FD: %v", err)
	}
	buf := make([]byte, 5)
	client.SetReadDeadline(time.Now().Add(wait))
	if _, err := client.Read(buf); err != nil || string(buf) != "hello" {
		t.Fatalf("peer read %q, %v; want %q", buf, err, "hello")
	}
	lfd, err := FD(f.ln)
	if err != nil || lfd < 0 || lfd == fd {
		t.Fatalf("FD(listener) = %d, %v; want a descriptor other than %d", lfd, err, fd)
	}
	server.Close()
	if got, err := FD(server); err == nil {
		t.Fatalf("FD(closed conn) = %d, nil; want an error", got)
	}
}

func TestInvalidArguments(t *testing.T) {
	f := newFixture(t)
	_, _, fd := f.pair()
	h := func(int, Event) {}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"negative fd", f.p.Add(-1, EventRead, h), ErrInvalid},
		{"no interest", f.p.Add(fd, 0, h), ErrInvalid},
		{"unknown bit", f.p.Add(fd, EventRead|1<<7, h), ErrInvalid},
		{"nil handler", f.p.Add(fd, EventRead, nil), ErrInvalid},
		{"modify no interest", f.p.Modify(fd, 0), ErrInvalid},
		{"add twice", func() error { f.add(fd, EventRead, h); return f.p.Add(fd, EventRead, h) }(), ErrRegistered},
		{"closed fd", f.p.Add(1<<14, EventRead, h), unix.EBADF},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if n := len(f.p.shards[(1<<14)%shardCount].entries); n > (1<<14)/shardCount {
		t.Errorf("table grew to %d entries for a closed fd", n)
	}
}
