package transport

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// HeaderRoom is the largest unmasked frame header (RFC 6455, 5.2): a frame
// built for Finish starts with this many reserved bytes.
const HeaderRoom = 10

// Finish turns b (HeaderRoom reserved bytes, then the payload) into a final
// frame of opcode op, right-aligning the header in the reserved room, so
// finishing copies no payload. The result is what Send takes.
func Finish(b []byte, op ws.OpCode) []byte {
	n := len(b) - HeaderRoom
	var hdr [HeaderRoom]byte
	hdr[0] = 0x80 | byte(op)
	var h []byte
	switch {
	case n < 126:
		hdr[1] = byte(n)
		h = hdr[:2]
	case n <= 0xffff:
		hdr[1] = 126
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
		h = hdr[:4]
	default:
		hdr[1] = 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
		h = hdr[:10]
	}
	start := HeaderRoom - len(h)
	copy(b[start:], h)
	return b[start:]
}

// controlFrame builds a complete control frame (ping, pong, close).
func controlFrame(op ws.OpCode, payload []byte) []byte {
	b := make([]byte, HeaderRoom, HeaderRoom+len(payload))
	b = append(b, payload...)
	return Finish(b, op)
}

// closeFrame builds a close frame with a code and a reason.
func closeFrame(code ws.StatusCode, reason string) []byte {
	return controlFrame(ws.OpClose, ws.NewCloseFrameBody(code, reason))
}
