package bus

import "errors"

// Decoding errors, returned by DecodeEvent and DecodeBeat. A Follower counts
// and drops such a message; a gap it leaves is recovered like any other.
var (
	// ErrVersion is returned for a message whose first byte is not Version:
	// it comes from an incompatible tickerfan; run the same version on both sides.
	ErrVersion = errors.New("bus: unknown wire version")
	// ErrKind is returned for a message kind the decoder does not know, or an
	// event decoded as a beat and the reverse.
	ErrKind = errors.New("bus: unknown message kind")
	// ErrTruncated is returned for a message that ends inside a field.
	ErrTruncated = errors.New("bus: truncated message")
	// ErrTrailing is returned for bytes after the last field of a message.
	ErrTrailing = errors.New("bus: trailing bytes")
	// ErrField is returned for a field with a bad value: a malformed decimal,
	// a side that is neither buy nor sell, an oversized string or count.
	ErrField = errors.New("bus: bad field")
)

// ErrNoConn is returned by NewPublisher and NewFollower without a NATS
// connection; pass the one Connect returned.
var ErrNoConn = errors.New("bus: no NATS connection")

// ErrNoProducts is returned by NewFollower when it is given no product to
// follow; list them in Config.Products or the catalog.
var ErrNoProducts = errors.New("bus: no products to follow")

// ErrNoPublish is returned by NewFollower without a function to hand the
// events to; pass the fan-out server's Publish.
var ErrNoPublish = errors.New("bus: no publish function")
