package fanout

import (
	"errors"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/fanout/transport"
)

// ErrClosed is returned by Serve after Shutdown; the caller should just exit.
var ErrClosed = errors.New("fanout: server closed")

// ErrNoProducts is returned by New when it is given no products: configure at
// least one feed with products.
var ErrNoProducts = errors.New("fanout: no products configured")

// ErrDuplicateProduct is returned by New when a product id is listed twice:
// each product must come from exactly one feed.
var ErrDuplicateProduct = errors.New("fanout: duplicate product id")

// ErrTooManyProducts is returned by New for a catalog over 65535 products:
// split them over several tickerfans.
var ErrTooManyProducts = errors.New("fanout: too many products")

// errNoSubscribe closes a connection that subscribed to nothing within
// subscribe_timeout (1008), as the anchor does. The transport's own closes
// (1009, 1003, 1002, rate limit, slow consumer, ping timeout, shutdown) are
// in package transport.
var errNoSubscribe = &transport.CloseError{Code: ws.StatusPolicyViolation, Reason: "no subscription received in time"}
