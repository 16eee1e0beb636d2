package coinbase

import "errors"

// ErrBadSecret is returned by Sign when the API secret is not base64; fix the
// credentials (Validate reports it at configuration time).
var ErrBadSecret = errors.New("coinbase: api secret is not base64")

// ErrStale ends a connection that received nothing, not even a heartbeat, for
// the stale timeout. The feed counts it as a disconnect and reconnects; no
// action is needed unless it repeats (subscribe to heartbeat, or raise
// stale_timeout for a quiet upstream).
var ErrStale = errors.New("coinbase: upstream stale")

// ErrResyncTimeout ends a connection on which a book waited longer than the
// resync timeout for its snapshot. The feed reconnects, which asks for every
// snapshot again; if it repeats, the upstream does not serve level2 for the
// product (check its error messages, credentials and product ids).
var ErrResyncTimeout = errors.New("coinbase: no snapshot within the resync timeout")

// ErrUpstreamClosed ends a connection the upstream closed with a close frame;
// the feed reconnects.
var ErrUpstreamClosed = errors.New("coinbase: upstream closed the connection")
