//go:build linux

package netpoll

import "errors"

// ErrClosed is returned by Add, Resume, Modify and Remove once Close was
// called or the poller goroutine stopped on an error. The kernel dropped every
// registration with the epoll descriptor; the caller closes its connections.
var ErrClosed = errors.New("netpoll: poller closed")

// ErrRegistered is returned by Add for a descriptor that is still registered.
// Usually the previous owner closed its connection without Remove and the
// kernel reused the number: fix that caller; Remove then Add recovers.
var ErrRegistered = errors.New("netpoll: fd already registered")

// ErrNotRegistered is returned by Resume, Modify and Remove for a descriptor
// with no registration (never added, or already removed). The caller has lost
// track of the connection's state; it should not retry.
var ErrNotRegistered = errors.New("netpoll: fd not registered")

// ErrInvalid is returned, wrapped with the bad value, for a negative
// descriptor, a nil handler or an interest that is empty or has unknown bits.
// It is a programming error in the caller.
var ErrInvalid = errors.New("netpoll: invalid argument")
