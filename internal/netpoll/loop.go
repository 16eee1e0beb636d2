//go:build linux

package netpoll

import (
	"encoding/binary"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// wakeData is the epoll data of the wake-up eventfd; registered descriptors
// are never negative.
const wakeData = -1

// run is the poller goroutine. New starts it, the Poller owns it, Close stops
// it and waits for it (on done). It waits on epoll and calls handlers, and on
// its way out closes epfd and wakefd, so that a Close from inside a handler
// still releases them.
//
// It locks its OS thread so that onLoop can recognise calls made by handlers;
// the thread spends its time blocked in epoll_wait.
//
// Hot path: nothing here allocates per event; events is reused.
func (p *Poller) run(events []unix.EpollEvent) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p.loopTid.Store(int64(unix.Gettid()))
	defer p.shutdown()
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err == unix.EINTR { // signals, among them the runtime's preemption
			continue
		}
		if err != nil {
			p.onError(fmt.Errorf("netpoll: epoll_wait: %w", err))
			return
		}
		for i := range events[:n] {
			if p.closed.Load() {
				return
			}
			ev := &events[i]
			p.dispatch(ev.Fd, uint32(ev.Pad), ev.Events)
		}
	}
}

// dispatch calls the handler registered for fd if the event belongs to the
// current registration (gen); an event fetched before a Remove, or before the
// number was added again for a new connection, is dropped. The handler is
// marked in flight under the shard's mu so that Remove can wait for it.
func (p *Poller) dispatch(fd int32, gen, mask uint32) {
	if fd == wakeData {
		return // Close sets closed before waking us; run checks it
	}
	s := &p.shards[int(fd)%shardCount]
	s.mu.Lock()
	e := s.at(int(fd))
	if e == nil || e.h == nil || e.gen != gen {
		s.mu.Unlock()
		return
	}
	h := e.h
	s.running = int(fd)
	s.mu.Unlock()

	h(int(fd), eventOf(mask))

	s.mu.Lock()
	s.running = -1
	if s.waiters > 0 {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}

// shutdown releases the loop's resources; run defers it. After it no
// epoll_ctl and no eventfd write can reach the closed descriptors.
func (p *Poller) shutdown() {
	p.closed.Store(true)
	for i := range p.shards {
		// Barrier: an epoll_ctl that saw closed == false holds this lock
		// until it is done; any later one sees closed == true.
		p.shards[i].ctlMu.Lock()
		p.shards[i].ctlMu.Unlock()
	}
	p.wakeMu.Lock()
	p.wakeGone = true
	p.wakeMu.Unlock()
	unix.Close(p.wakefd)
	unix.Close(p.epfd)
	p.loopTid.Store(0)
	close(p.done)
}

// wake makes epoll_wait return by bumping the eventfd's counter. The eventfd
// stays readable (level-triggered), so any number of wakes is harmless.
func (p *Poller) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1) // eventfd(2): a host-order uint64
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	if !p.wakeGone {
		// EAGAIN means the counter is at its maximum: already readable.
		_, _ = unix.Write(p.wakefd, one[:])
	}
}

// onLoop reports whether the caller runs on the poller goroutine, i.e. in a
// handler. The loop is locked to its thread, and no other goroutine runs on
// a locked thread, so the thread id identifies it.
func (p *Poller) onLoop() bool {
	tid := p.loopTid.Load()
	return tid != 0 && tid == int64(unix.Gettid())
}
