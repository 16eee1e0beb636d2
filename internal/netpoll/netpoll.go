//go:build linux

// Package netpoll reports readiness of many mostly idle sockets from one
// goroutine, so that fanout (WebSocket server) and bench (load tool) hold
// thousands of connections without a goroutine or a read buffer per idle one.
//
// A caller takes a connection's descriptor with FD (no dup, blocking mode
// untouched), registers it with Poller.Add, and, when its handler fires, does
// its own non-blocking unix.Read/unix.Writev on the descriptor inside
// RawConn.Control, which keeps the descriptor from being closed and reused
// underneath it. The Poller only reports readiness; it never reads or writes.
//
// Registrations are one-shot and level-triggered (EPOLLONESHOT): a handler
// fires once, then the descriptor is disarmed until Resume or Modify. A
// connection therefore has at most one handler call in flight, and the worker
// that serves it owns it until it re-arms it.
//
// Handlers run on the poller goroutine, one at a time, and MUST NOT BLOCK:
// no blocking syscall, no lock that is held across I/O, no blocking send to a
// full pool. A blocked handler stalls every connection of the Poller, and
// Remove and Close wait for a running handler. Hand the work to a bounded pool
// (or drop it) and return. A handler may call Add, Resume, Modify, Remove and
// Close.
//
// Lifecycle of one connection:
//
//	fd, _ := netpoll.FD(conn)
//	p.Add(fd, netpoll.EventRead, onReady) // onReady schedules a worker
//	// worker, inside rc.Control: read until EAGAIN, then p.Resume(fd)
//	// on EOF, error or EventHup: p.Remove(fd), then conn.Close()
//
// The Poller indexes registrations by descriptor number, and the kernel
// recycles numbers as soon as a connection is closed. So Remove comes before
// Close, and Resume and Modify, like the I/O, belong inside the connection's
// RawConn.Control: if another goroutine closed the connection meanwhile,
// Control fails instead of re-arming whatever connection reused the number.
//
// When Remove returns, the handler is not running and will not be called
// again (see Remove), so the caller may recycle what the handler refers to.
package netpoll

import (
	"fmt"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Event is a bitmask of readiness kinds: the interest given to Add and
// Modify, and what happened, given to a handler.
type Event uint32

// Readiness kinds. EventHup is reported when the peer half-closed
// (EPOLLRDHUP; needs EventRead or EventHup interest), hung up (EPOLLHUP) or
// the socket has a pending error (EPOLLERR; these two whatever the interest).
// With read interest a closing peer shows as EventRead|EventHup: the caller
// reads what is left, sees EOF or the error, and removes the connection.
// EventHup may be given as interest alone, to learn only of a closing peer.
const (
	EventRead Event = 1 << iota
	EventWrite
	EventHup

	eventAll = EventRead | EventWrite | EventHup
)

// String renders the set bits as "read|write|hup", for logs and test output.
func (e Event) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for _, k := range [...]struct {
		bit  Event
		name string
	}{{EventRead, "read"}, {EventWrite, "write"}, {EventHup, "hup"}} {
		if e&k.bit != 0 {
			parts = append(parts, k.name)
			e &^= k.bit
		}
	}
	if e != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(e)))
	}
	return strings.Join(parts, "|")
}

// epollMask translates interest to epoll flags. Read interest always brings
// EPOLLRDHUP so a half-closed peer is reported (epoll_ctl(2)); EPOLLHUP and
// EPOLLERR are reported by the kernel whatever the mask.
func (e Event) epollMask() uint32 {
	var m uint32 = unix.EPOLLONESHOT
	if e&EventRead != 0 {
		m |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if e&EventWrite != 0 {
		m |= unix.EPOLLOUT
	}
	if e&EventHup != 0 {
		m |= unix.EPOLLRDHUP
	}
	return m
}

// eventOf translates the flags epoll_wait reported.
func eventOf(m uint32) Event {
	var e Event
	if m&unix.EPOLLIN != 0 {
		e |= EventRead
	}
	if m&unix.EPOLLOUT != 0 {
		e |= EventWrite
	}
	if m&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		e |= EventHup
	}
	return e
}

// Config tunes a Poller. Its zero value is a working default.
type Config struct {
	// MaxEvents is how many events one epoll_wait call may return, the size of
	// the Poller's reused event buffer. Default 256; at most 65536.
	MaxEvents int
	// OnError receives an error that stopped the poller goroutine (an
	// unexpected epoll_wait failure); the Poller then behaves as closed.
	// It is called on the poller goroutine. Default: ignore.
	OnError func(error)
}

const (
	defaultMaxEvents = 256
	maxMaxEvents     = 1 << 16
)

// Validate reports a field with a value New cannot use.
func (c Config) Validate() error {
	if c.MaxEvents < 0 || c.MaxEvents > maxMaxEvents {
		return fmt.Errorf("netpoll: Config.MaxEvents: %d is outside [0, %d]", c.MaxEvents, maxMaxEvents)
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxEvents == 0 {
		c.MaxEvents = defaultMaxEvents
	}
	if c.OnError == nil {
		c.OnError = func(error) {}
	}
	return c
}

// FD returns the descriptor behind c (a *net.TCPConn, *net.TCPListener, ...)
// without dup and without changing its blocking mode. The number is valid
// only while c is open; do I/O on it inside c's RawConn.Control so that a
// concurrent Close cannot hand the number to another file mid-call.
func FD(c syscall.Conn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("netpoll: fd: %w", err)
	}
	fd := -1
	if err := rc.Control(func(s uintptr) { fd = int(s) }); err != nil {
		return -1, fmt.Errorf("netpoll: fd: %w", err)
	}
	return fd, nil
}
