package client

import "errors"

var (
	// ErrClosed is returned by the methods of a Client after Close. Make a
	// new Client to connect again.
	ErrClosed = errors.New("client: closed")
	// ErrTwoLevel2 is returned by Subscribe when a product would be on two
	// level-2 channels (level2 and level2_batch) at once: both carry
	// snapshot/l2update with their own sequences, which one book cannot
	// follow. Unsubscribe one first.
	ErrTwoLevel2 = errors.New("client: a product can be on one level-2 channel only (level2, level2_batch or level2_50)")
	// ErrNoProducts is returned by Subscribe and Unsubscribe given no
	// product ids; name the products.
	ErrNoProducts = errors.New("client: no product ids")
	// ErrNoChannels is returned by Subscribe and Unsubscribe given no
	// channels.
	ErrNoChannels = errors.New("client: no channels")
	// errGap: an l2update's sequence does not follow the book's; the client
	// resubscribes the product's level2 channel for a fresh snapshot.
	errGap = errors.New("client: level2 sequence gap")
	// errChecksum: the book after an update does not match the server's
	// checksum; the client resubscribes as for a gap.
	errChecksum = errors.New("client: level2 checksum mismatch")
	// errUnknownLevel: an l2update removes a level the book does not hold.
	errUnknownLevel = errors.New("client: l2update removes a level the book does not hold")
)
