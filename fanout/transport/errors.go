package transport

import (
	"errors"

	"github.com/gobwas/ws"
)

// ErrClosed is returned by Serve once Shutdown has begun (also when Serve is
// called after it); the caller should just exit.
var ErrClosed = errors.New("transport: server closed")

// errConnGone: the socket was closed under a read or write; the connection
// is finalized.
var errConnGone = errors.New("transport: connection gone")

// errHeadTooLarge: an HTTP request head over maxRequestHead; answered 431.
var errHeadTooLarge = errors.New("transport: request head larger than 4096 bytes")

// CloseError is a client-facing rejection that ends a connection: the close
// code and reason the client reads in the close frame (RFC 6455, 7.4).
type CloseError struct {
	Code   ws.StatusCode
	Reason string
}

func (e *CloseError) Error() string { return "transport: " + e.Reason }

// The ways the transport closes a connection by itself.
var (
	// ErrTooBig: a frame or message over max_message_bytes (1009).
	ErrTooBig = &CloseError{ws.StatusMessageTooBig, "message too big"}
	// ErrBinary: a binary data frame; the protocols here are text (1003).
	ErrBinary = &CloseError{ws.StatusUnsupportedData, "binary frames are not supported; send JSON text"}
	// ErrProtocol: a frame that breaks RFC 6455 (1002).
	ErrProtocol = &CloseError{ws.StatusProtocolError, "websocket protocol error"}
	// ErrInvalidUTF8: a text message or close reason that is not UTF-8 (1007).
	ErrInvalidUTF8 = &CloseError{ws.StatusInvalidFramePayloadData, "text is not valid UTF-8"}
	// ErrRate: more messages than messages_per_second allows (1008).
	ErrRate = &CloseError{ws.StatusPolicyViolation, "rate limit exceeded"}
	// ErrSlow: the client accepted nothing for write_timeout (1008).
	ErrSlow = &CloseError{ws.StatusPolicyViolation, "slow consumer"}
	// ErrFrameTimeout: an incomplete frame held longer than frame_timeout (1008).
	ErrFrameTimeout = &CloseError{ws.StatusPolicyViolation, "incomplete frame timeout"}
	// ErrOverloaded: the queued bytes of all connections passed
	// max_total_queue_bytes and this connection's queue was among the
	// largest (1008).
	ErrOverloaded = &CloseError{ws.StatusPolicyViolation, "server overloaded"}
	// ErrPingTimeout: no answer to a ping within pong_timeout (1008).
	ErrPingTimeout = &CloseError{ws.StatusPolicyViolation, "ping timeout"}
	// ErrShutdown: the server is shutting down (1001).
	ErrShutdown = &CloseError{ws.StatusGoingAway, "server shutting down"}
)
