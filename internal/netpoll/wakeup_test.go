//go:build linux

package netpoll

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wakeupCases drive TestWakeup and BenchmarkWakeup: one round is
// poke -> handler -> drain -> Resume, the path every served message takes.
var wakeupCases = []struct {
	name     string
	interest Event
	poke     bool // the peer writes a byte each round; else the socket is just writable
}{
	{"read", EventRead, true},
	{"write", EventWrite, false},
}

// wakeupRig is one registered connection whose handler signals without
// blocking (a chan of capacity 1, as STYLE asks for signals).
type wakeupRig struct {
	p      *Poller
	fd     int
	peerFD int
	rc     syscall.RawConn
	poke   bool
	ready  chan Event
	rearm  func(uintptr) // built once: a closure per round would allocate
	buf    [1]byte
	err    error
}

func newWakeupRig(tb testing.TB, interest Event, poke bool) *wakeupRig {
	tb.Helper()
	f := newFixture(tb)
	client, server, fd := f.pair()
	peerFD, err := FD(client)
	if err != nil {
		tb.Fatalf("FD: %v", err)
	}
	rc, err := server.SyscallConn()
	if err != nil {
		tb.Fatalf("SyscallConn: %v", err)
	}
	r := &wakeupRig{p: f.p, fd: fd, peerFD: peerFD, rc: rc, poke: poke, ready: make(chan Event, 1)}
	r.rearm = func(s uintptr) { r.err = r.drainAndResume(int(s)) }
	f.add(fd, interest, func(_ int, ev Event) {
		select {
		case r.ready <- ev:
		default:
		}
	})
	return r
}

// drainAndResume is the worker's part, run inside RawConn.Control.
func (r *wakeupRig) drainAndResume(fd int) error {
	if r.poke {
		if n, err := unix.Read(fd, r.buf[:]); n != 1 || err != nil {
			return fmt.Errorf("drain: n=%d err=%v", n, err)
		}
	}
	return r.p.Resume(fd)
}

// round runs one wake-up and returns the event the handler saw.
func (r *wakeupRig) round() (Event, error) {
	if r.poke {
		if _, err := unix.Write(r.peerFD, []byte{'x'}); err != nil {
			return 0, fmt.Errorf("peer write: %w", err)
		}
	}
	ev := <-r.ready
	if err := r.rc.Control(r.rearm); err != nil {
		return 0, err
	}
	return ev, r.err
}

func TestWakeup(t *testing.T) {
	for _, tc := range wakeupCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newWakeupRig(t, tc.interest, tc.poke)
			errc := make(chan error, 1)
			go func() { // round blocks; the test goroutine bounds it
				for i := range 3 {
					ev, err := r.round()
					if err == nil && ev != tc.interest {
						err = fmt.Errorf("round %d: event %v, want %v", i, ev, tc.interest)
					}
					if err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
			select {
			case err := <-errc:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(wait):
				t.Fatalf("3 rounds not done within %v", wait)
			}
		})
	}
}

func BenchmarkWakeup(b *testing.B) {
	for _, tc := range wakeupCases {
		b.Run(tc.name, func(b *testing.B) {
			r := newWakeupRig(b, tc.interest, tc.poke)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.round(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
