//go:build linux

package netpoll

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Poller is an epoll instance plus the goroutine that waits on it and calls
// handlers. Create it with New; its methods are safe for concurrent use,
// including from inside a handler.
//
// Locks, in this order: a shard's ctlMu, then its mu; wakeMu alone. The loop
// takes only mu, and never across a syscall, so an epoll_ctl that makes a
// descriptor ready (and wakes the loop) does not make the loop wait for it.
type Poller struct {
	epfd    int
	wakefd  int
	onError func(error)
	shards  [shardCount]shard

	// closed is set by Close or by the loop on its way out. Every epoll_ctl
	// checks it under its shard's ctlMu, so once shutdown has taken each
	// ctlMu in turn no epoll_ctl can start on a closed (reusable) epfd.
	closed atomic.Bool
	// loopTid is the OS thread the loop is locked to while it may call
	// handlers, 0 otherwise. onLoop compares it with gettid(2) to tell a call
	// from a handler apart from a call on any other goroutine.
	loopTid atomic.Int64

	wakeMu   sync.Mutex
	wakeGone bool // wakefd is closed; wakeMu must be held

	done chan struct{} // closed once the loop has exited and closed epfd and wakefd
}

// shardCount splits the registration table so that workers re-arming
// connections rarely wait for each other.
const shardCount = 16

// shard holds the registrations of the descriptors fd with
// fd%shardCount == its index, at entries[fd/shardCount].
type shard struct {
	// ctlMu serializes the epoll_ctl calls of the shard's descriptors with
	// the table changes they go with; held across the syscall.
	ctlMu sync.Mutex
	// mu guards what dispatch reads: entries' slice header and each entry's
	// h and gen (written with ctlMu held too), running and waiters.
	mu      sync.Mutex
	entries []entry   // grown, never shrunk: O(1) lookup without allocation
	running int       // fd whose handler the loop is calling, or -1
	waiters int       // Remove calls waiting for running to move on
	cond    sync.Cond // L is &mu; broadcast when running is cleared and waiters > 0
}

// entry is one descriptor's registration.
type entry struct {
	h   func(fd int, ev Event) // nil when not registered
	gen uint32                 // generation of the latest registration, bumped by Add
	ev  Event                  // interest given to Add or Modify; ctlMu only
}

// at returns fd's entry, nil if the table never reached it. ctlMu or mu
// must be held.
func (s *shard) at(fd int) *entry {
	if i := fd / shardCount; i < len(s.entries) {
		return &s.entries[i]
	}
	return nil
}

// grow returns fd's entry, extending the table if needed. ctlMu and mu must
// be held.
func (s *shard) grow(fd int) *entry {
	i := fd / shardCount
	if i >= len(s.entries) {
		s.entries = append(s.entries, make([]entry, i+1-len(s.entries))...)
	}
	return &s.entries[i]
}

// unregister clears e so that dispatch drops its events. ctlMu must be held.
func (s *shard) unregister(e *entry) {
	s.mu.Lock()
	e.h = nil
	s.mu.Unlock()
}

// New creates the epoll descriptor and the wake-up eventfd and starts the
// poller goroutine, which belongs to the Poller: Close stops it and waits for
// it.
func New(cfg Config) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("netpoll: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("netpoll: eventfd: %w", err)
	}
	wake := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeData}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &wake); err != nil {
		unix.Close(wakefd)
		unix.Close(epfd)
		return nil, fmt.Errorf("netpoll: epoll_ctl add eventfd: %w", err)
	}
	p := &Poller{epfd: epfd, wakefd: wakefd, onError: cfg.OnError, done: make(chan struct{})}
	for i := range p.shards {
		p.shards[i].running = -1
		p.shards[i].cond.L = &p.shards[i].mu
	}
	go p.run(make([]unix.EpollEvent, cfg.MaxEvents))
	return p, nil
}

// Add registers fd with interest ev and arms it once: h is called on the
// poller goroutine, once, when fd is ready, and not again until Resume or
// Modify. h must not block (see the package doc).
func (p *Poller) Add(fd int, ev Event, h func(fd int, ev Event)) error {
	if ev == 0 || ev&^eventAll != 0 {
		return fmt.Errorf("%w: interest %v", ErrInvalid, ev)
	}
	if h == nil {
		return fmt.Errorf("%w: nil handler for fd %d", ErrInvalid, fd)
	}
	s, err := p.lockCtl(fd)
	if err != nil {
		return err
	}
	defer s.ctlMu.Unlock()
	gen := uint32(1)
	if e := s.at(fd); e != nil {
		if e.h != nil {
			return ErrRegistered
		}
		gen = e.gen + 1
	}
	// Added disarmed first, so that the kernel vets fd before the table grows
	// for it and no event can fire before the entry is published; then armed.
	if err := p.ctl(unix.EPOLL_CTL_ADD, fd, 0, gen); err != nil {
		return err
	}
	s.mu.Lock()
	e := s.grow(fd)
	*e = entry{h: h, ev: ev, gen: gen}
	s.mu.Unlock()
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, ev, gen); err != nil {
		s.unregister(e)
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		return err
	}
	return nil
}

// Resume re-arms fd with the interest it was registered with, after its
// handler fired. Resuming an armed fd is harmless.
func (p *Poller) Resume(fd int) error {
	s, e, err := p.lockEntry(fd)
	if err != nil {
		return err
	}
	defer s.ctlMu.Unlock()
	return p.ctl(unix.EPOLL_CTL_MOD, fd, e.ev, e.gen)
}

// Modify sets fd's interest to ev, for this and later Resume calls, and
// re-arms it.
func (p *Poller) Modify(fd int, ev Event) error {
	if ev == 0 || ev&^eventAll != 0 {
		return fmt.Errorf("%w: interest %v", ErrInvalid, ev)
	}
	s, e, err := p.lockEntry(fd)
	if err != nil {
		return err
	}
	defer s.ctlMu.Unlock()
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, ev, e.gen); err != nil {
		return err
	}
	e.ev = ev
	return nil
}

// Remove unregisters fd. Call it before closing the connection. When Remove
// returns, fd's handler is not running and will not be called again:
// dispatch checks the registration and its generation under the shard's mu
// before every call and marks the call in flight, Remove clears the
// registration under mu and then waits for an in-flight call to return.
// Called from that very handler, Remove cannot wait for it and only rules out
// later calls. A stale event already fetched by epoll_wait (for this or an
// earlier connection with the same number) is dropped by the generation
// check.
func (p *Poller) Remove(fd int) error {
	s, e, err := p.lockEntry(fd)
	if err != nil {
		return err
	}
	s.unregister(e)
	err = p.ctl(unix.EPOLL_CTL_DEL, fd, 0, 0)
	s.ctlMu.Unlock() // before waiting: the running handler may call Add or Resume
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EBADF) {
		err = nil // fd was closed first: the kernel already dropped it
	}
	s.mu.Lock()
	for s.running == fd && !p.onLoop() {
		s.waiters++
		s.cond.Wait()
		s.waiters--
	}
	s.mu.Unlock()
	return err
}

// Close stops the poller goroutine, waits for it to exit and closes the epoll
// descriptor; registrations die with it and no handler runs after Close
// returns. Called from a handler, Close cannot wait: the goroutine exits when
// that handler returns. Close is idempotent and returns nil.
func (p *Poller) Close() error {
	p.closed.Store(true)
	p.wake()
	if p.onLoop() {
		return nil
	}
	<-p.done
	return nil
}

// lockCtl validates fd and returns its shard with ctlMu held, or ErrClosed.
func (p *Poller) lockCtl(fd int) (*shard, error) {
	if fd < 0 || fd > math.MaxInt32 {
		return nil, fmt.Errorf("%w: fd %d", ErrInvalid, fd)
	}
	s := &p.shards[fd%shardCount]
	s.ctlMu.Lock()
	if p.closed.Load() {
		s.ctlMu.Unlock()
		return nil, ErrClosed
	}
	return s, nil
}

// lockEntry is lockCtl for a registered fd; it also returns fd's entry,
// which stays put while ctlMu is held.
func (p *Poller) lockEntry(fd int) (*shard, *entry, error) {
	s, err := p.lockCtl(fd)
	if err != nil {
		return nil, nil, err
	}
	e := s.at(fd)
	if e == nil || e.h == nil {
		s.ctlMu.Unlock()
		return nil, nil, ErrNotRegistered
	}
	return s, e, nil
}

// ctl applies op to fd with the epoll data (fd, gen). fd's shard ctlMu must
// be held, so the kernel's copy of (interest, gen) always matches the table.
func (p *Poller) ctl(op, fd int, ev Event, gen uint32) error {
	e := unix.EpollEvent{Events: ev.epollMask(), Fd: int32(fd), Pad: int32(gen)}
	if err := unix.EpollCtl(p.epfd, op, fd, &e); err != nil {
		return fmt.Errorf("netpoll: epoll_ctl %s fd %d: %w", opNames[op], fd, err)
	}
	return nil
}

var opNames = map[int]string{
	unix.EPOLL_CTL_ADD: "add",
	unix.EPOLL_CTL_MOD: "mod",
	unix.EPOLL_CTL_DEL: "del",
}
