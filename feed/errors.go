package feed

import "errors"

// ErrBadSide is returned by ParseSide for anything but buy/sell/bid/ask; the
// message carrying it is malformed and should be counted and dropped.
var ErrBadSide = errors.New("feed: side must be \"buy\" or \"sell\"")

// ErrNoProducts is returned by NewSimulator when it is given no products;
// configure at least one (or use DefaultProducts).
var ErrNoProducts = errors.New("feed: no products")

// ErrDuplicateProduct is returned when a feed lists the same product id twice;
// the configuration must name each product once.
var ErrDuplicateProduct = errors.New("feed: duplicate product")

// ErrBadIncrement is returned when a product's quote or base increment is not
// a positive decimal of at most 11 significant digits; fix the product's
// increments in the configuration.
var ErrBadIncrement = errors.New("feed: bad product increment")

// ErrBadSecret is returned by Sign when the API secret is not base64; fix the
// credentials (Validate reports it at configuration time).
var ErrBadSecret = errors.New("feed: api secret is not base64")

// ErrStale ends a connection that received nothing, not even a heartbeat, for
// the stale timeout. The feed counts it as a disconnect and reconnects; no
// action is needed unless it repeats (subscribe to heartbeat, or raise
// stale_timeout for a quiet upstream).
var ErrStale = errors.New("feed: upstream stale")

// ErrResyncTimeout ends a connection on which a book waited longer than the
// resync timeout for its snapshot. The feed reconnects, which asks for every
// snapshot again; if it repeats, the upstream does not serve level2 for the
// product (check its error messages, credentials and product ids).
var ErrResyncTimeout = errors.New("feed: no snapshot within the resync timeout")

// ErrUpstreamClosed ends a connection the upstream closed with a close frame;
// the feed reconnects.
var ErrUpstreamClosed = errors.New("feed: upstream closed the connection")

// ErrBadRecord is returned by RecordReader.Next for a line that is not a
// record (wrapped with the line number); the reader stays usable and a
// replay counts the line as malformed and goes on.
var ErrBadRecord = errors.New("feed: bad record")

// ErrRecordTooLong is returned by RecordReader.Next for a line longer than
// the reader's limit; the file cannot be read further.
var ErrRecordTooLong = errors.New("feed: record line too long")
