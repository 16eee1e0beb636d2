package wsframe

import "errors"

// ErrTooBig is returned for a frame or message over the caller's limit; the
// connection should be closed with 1009.
var ErrTooBig = errors.New("wsframe: message too big")

// ErrProtocol is returned for a frame that breaks RFC 6455 (wrong masking,
// reserved bits or opcode, a fragmented or oversized control frame, a
// continuation out of place, a 1-byte close payload or a close code a peer
// may not send); the connection should be closed with 1002.
var ErrProtocol = errors.New("wsframe: websocket protocol error")

// ErrInvalidUTF8 is returned for a text message or a close reason that is
// not valid UTF-8; the connection should be closed with 1007 (RFC 6455,
// sections 5.6 and 8.1).
var ErrInvalidUTF8 = errors.New("wsframe: text is not valid UTF-8")
