package fanout

import (
	"errors"

	"github.com/gobwas/ws"
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

// closeError is a client-facing rejection that ends the connection: it carries
// the close code and reason sent to the client (RFC 6455, section 7.4).
type closeError struct {
	code   ws.StatusCode
	reason string
}

func (e *closeError) Error() string { return "fanout: " + e.reason }

// The ways a connection is closed by the server. Each reason is what the
// client reads in the close frame.
var (
	// errTooBig: a frame or message over max_message_bytes (1009).
	errTooBig = &closeError{ws.StatusMessageTooBig, "message too big"}
	// errBinary: a binary data frame; the protocol is JSON text (1003).
	errBinary = &closeError{ws.StatusUnsupportedData, "binary frames are not supported; send JSON text"}
	// errProtocol: a frame that breaks RFC 6455 (unmasked, reserved bits, bad
	// control frame, bad continuation) (1002).
	errProtocol = &closeError{ws.StatusProtocolError, "websocket protocol error"}
	// errInvalidUTF8: a text message or close reason that is not UTF-8 (1007).
	errInvalidUTF8 = &closeError{ws.StatusInvalidFramePayloadData, "text is not valid UTF-8"}
	// errRate: more messages than messages_per_second allows (1008).
	errRate = &closeError{ws.StatusPolicyViolation, "rate limit exceeded"}
	// errSlow: the client accepted nothing for write_timeout (1008).
	errSlow = &closeError{ws.StatusPolicyViolation, "slow consumer"}
	// errNoSubscribe: nothing subscribed within subscribe_timeout (1008).
	errNoSubscribe = &closeError{ws.StatusPolicyViolation, "no subscription received in time"}
	// errPingTimeout: no answer to a ping within pong_timeout (1008).
	errPingTimeout = &closeError{ws.StatusPolicyViolation, "ping timeout"}
	// errShutdown: the server is shutting down (1001).
	errShutdown = &closeError{ws.StatusGoingAway, "server shutting down"}
)
