package bench

import "errors"

// ErrMalformed is returned by Scan for a message that is not a JSON object it
// can walk. The swarm counts such messages as protocol errors and goes on.
var ErrMalformed = errors.New("bench: malformed JSON message")

// ErrFrame is returned by the frame reader for bytes that are not a valid
// server frame (RFC 6455 5.2: a masked server frame, reserved bits or opcodes,
// a fragmented or oversized control frame). The connection is closed and
// counted as a protocol error.
var ErrFrame = errors.New("bench: invalid WebSocket frame from server")

// ErrTooBig is returned by the frame reader for a message larger than
// Profile.MaxMessageBytes; the connection is closed and counted.
var ErrTooBig = errors.New("bench: server message too big")

// ErrNoProducts is returned when no product list was given and the target's
// GET /products did not answer with one. Give products in the profile.
var ErrNoProducts = errors.New("bench: no products to subscribe to")

// ErrTargetUnreachable is returned when the target did not answer GET
// /products (to learn its products) at all, e.g. the connection was
// refused: start the server or correct -target.
var ErrTargetUnreachable = errors.New("bench: cannot reach the target")

// ErrServerStart is returned, wrapped with the cause, when the server given
// with -start-server did not become healthy. Its stderr is shown before.
var ErrServerStart = errors.New("bench: server did not start")

// Reasons a subscriber's level-2 book cannot be trusted (l2Book.broken): a
// level2 message it cannot apply. The book stays broken until the next
// snapshot, and the end-of-run check reports it as not exact with this reason.
var (
	errL2Malformed    = errors.New("malformed level2 message")
	errL2Side         = errors.New("change with a side other than buy or sell")
	errL2BeforeSnap   = errors.New("l2update before any snapshot")
	errL2Decimal      = errors.New("price or size not a decimal")
	errL2LevelsFormat = errors.New("level not a [price, size] or [side, price, size] array of strings")
)
