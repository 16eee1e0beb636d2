//go:build linux

package netpoll

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRemoveStopsCallbacks(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	rec := newRecorder()
	f.add(fd, EventRead, rec.handle)
	if err := f.p.Remove(fd); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	write(t, client, "x")
	waitReadable(t, fd)
	f.barrier()
	rec.none(t, "after Remove")

	for name, err := range map[string]error{
		"Remove": f.p.Remove(fd),
		"Resume": f.p.Resume(fd),
		"Modify": f.p.Modify(fd, EventRead),
	} {
		if !errors.Is(err, ErrNotRegistered) {
			t.Errorf("%s after Remove = %v, want ErrNotRegistered", name, err)
		}
	}
	// The number can be registered again, and the new handler works.
	rec2 := newRecorder()
	f.add(fd, EventRead, rec2.handle)
	if c := rec2.next(t); c != (call{fd, EventRead}) {
		t.Fatalf("call after re-Add = %+v, want fd %d ev read", c, fd)
	}
	rec.none(t, "old handler after re-Add")
}

// TestStaleEventAfterReAdd has epoll_wait return [swap, victim] in one batch
// (the ready list is FIFO); swap's handler removes victim, puts another
// connection on victim's number and registers it. The victim event still in
// the batch must reach neither handler.
func TestStaleEventAfterReAdd(t *testing.T) {
	f := newFixture(t)
	freezeClient, _, freezeFD := f.pair()
	swapClient, _, swapFD := f.pair()
	victimClient, victimConn, victimConnFD := f.pair()
	newClient, _, newFD := f.pair()

	// victim is our own number for the first socket, so dup3 can later put
	// the second socket on it atomically, with no window for a reuse race.
	victim, err := unix.Dup(victimConnFD)
	if err != nil {
		t.Fatalf("dup: %v", err)
	}
	t.Cleanup(func() { unix.Close(victim) })
	victimConn.Close()

	oldRec, newRec := newRecorder(), newRecorder()
	f.add(victim, EventRead, oldRec.handle)
	swapped := make(chan error, 1)
	f.add(swapFD, EventRead, func(int, Event) {
		if len(oldRec.calls) != 0 {
			swapped <- errors.New("victim dispatched before swap: ready list not FIFO")
			return
		}
		if err := f.p.Remove(victim); err != nil {
			swapped <- err
			return
		}
		if err := unix.Dup3(newFD, victim, unix.O_CLOEXEC); err != nil {
			swapped <- err
			return
		}
		swapped <- f.p.Add(victim, EventRead, newRec.handle)
	})
	entered, unblock := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(unblock) })
	t.Cleanup(release) // a failing test must not leave the poller blocked
	f.add(freezeFD, EventRead, func(int, Event) {
		close(entered)
		<-unblock // blocks the poller on purpose, to queue the next batch
	})

	write(t, freezeClient, "f")
	<-entered
	write(t, swapClient, "s")
	waitReadable(t, swapFD)
	write(t, victimClient, "v")
	waitReadable(t, victim)
	release()
	if err := <-swapped; err != nil {
		t.Fatalf("swap: %v", err)
	}
	f.barrier()
	oldRec.none(t, "old handler, stale event")
	newRec.none(t, "new handler, stale event of the old connection")

	write(t, newClient, "n")
	if c := newRec.next(t); c != (call{victim, EventRead}) {
		t.Fatalf("new connection call = %+v, want fd %d ev read", c, victim)
	}
	if got := read(t, victim); got != "n" {
		t.Fatalf("read on reused number %q, want %q", got, "n")
	}
}

func TestRemoveWaitsForRunningHandler(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	var returned atomic.Bool
	entered, unblock := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(unblock) })
	t.Cleanup(release)
	f.add(fd, EventRead, func(int, Event) {
		close(entered)
		<-unblock
		returned.Store(true)
	})
	write(t, client, "x")
	<-entered

	removed := make(chan bool, 1) // whether the handler had returned
	go func() {
		f.p.Remove(fd)
		removed <- returned.Load()
	}()
	s := &f.p.shards[fd%shardCount]
	eventually(t, "Remove waiting or returned", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.waiters == 1 || len(removed) == 1
	})
	release()
	if !<-removed {
		t.Fatal("Remove returned while the handler was still running")
	}
}

func TestRemoveAfterClose(t *testing.T) {
	f := newFixture(t)
	_, server, fd := f.pair()
	rec := newRecorder()
	f.add(fd, EventRead, rec.handle)
	server.Close() // wrong order, but the kernel already dropped fd
	if err := f.p.Remove(fd); err != nil {
		t.Fatalf("Remove after close = %v, want nil", err)
	}
	if err := f.p.Resume(fd); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Resume after Remove = %v, want ErrNotRegistered", err)
	}
}

func TestRemoveFromOwnHandler(t *testing.T) {
	f := newFixture(t)
	client, _, fd := f.pair()
	errs := make(chan error, 4)
	f.add(fd, EventRead, func(fd int, _ Event) { errs <- f.p.Remove(fd) })
	write(t, client, "x")
	select {
	case err := <-errs:
		if err != nil {
			t.Fatalf("Remove from handler: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Remove from own handler deadlocked")
	}
	if err := f.p.Resume(fd); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Resume after Remove = %v, want ErrNotRegistered", err)
	}
}
