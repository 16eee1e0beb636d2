// Package wsframe parses WebSocket frames (RFC 6455) out of a connection's
// buffered input without blocking, keeps that input in a pooled buffer that an
// idle connection gives back, and joins fragmented messages. The server
// (fanout, masked client frames) and the load tool (bench, unmasked server
// frames) both read sockets this way.
package wsframe

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// ErrTooBig is returned for a frame or message over the caller's limit; the
// connection should be closed with 1009.
var ErrTooBig = errors.New("wsframe: message too big")

// ErrProtocol is returned for a frame that breaks RFC 6455 (wrong masking,
// reserved bits or opcode, a fragmented or oversized control frame, a
// continuation out of place); the connection should be closed with 1002.
var ErrProtocol = errors.New("wsframe: websocket protocol error")

// Frame is one parsed frame. Payload aliases the input and is unmasked.
type Frame struct {
	Op      ws.OpCode
	Fin     bool
	Payload []byte
}

// Next parses the frame at the start of b. n is the frame's length in b, 0
// when b does not hold all of it yet; need is then its total length once the
// header is in (0 before), so the caller can make room. masked says which
// side sent it: client frames must be masked and are unmasked in place,
// server frames must not be (RFC 6455, 5.1). maxLen bounds the payload and is
// checked as soon as the header is in, before any payload arrives.
func Next(b []byte, maxLen int, masked bool) (f Frame, n, need int, err error) {
	if len(b) < 2 {
		return f, 0, 0, nil
	}
	f.Fin = b[0]&0x80 != 0
	f.Op = ws.OpCode(b[0] & 0x0f)
	if b[0]&0x70 != 0 || f.Op.IsReserved() || (b[1]&0x80 != 0) != masked {
		return f, 0, 0, ErrProtocol
	}
	hlen := 2
	length := uint64(b[1] & 0x7f)
	switch length {
	case 126:
		if len(b) < 4 {
			return f, 0, 0, nil
		}
		length, hlen = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, 0, 0, nil
		}
		length, hlen = binary.BigEndian.Uint64(b[2:]), 10
	}
	if length > uint64(maxLen) {
		return f, 0, 0, ErrTooBig
	}
	if f.Op.IsControl() && (!f.Fin || length > 125) {
		return f, 0, 0, ErrProtocol
	}
	var mask [4]byte
	if masked {
		if len(b) < hlen+4 {
			return f, 0, 0, nil
		}
		copy(mask[:], b[hlen:])
		hlen += 4
	}
	total := hlen + int(length)
	if len(b) < total {
		return f, 0, total, nil
	}
	f.Payload = b[hlen:total]
	if masked {
		ws.Cipher(f.Payload, mask, 0)
	}
	return f, total, total, nil
}

// Assembler joins the fragments of a data message (RFC 6455, 5.4).
type Assembler struct {
	frag     []byte
	fragging bool
}

// Add takes one data frame (text, binary or continuation). It returns the
// whole message once its last fragment is in; the message aliases the frame
// payload when it came in one frame. maxLen bounds the joined message.
func (a *Assembler) Add(f Frame, maxLen int) (msg []byte, done bool, err error) {
	if (f.Op == ws.OpContinuation) != a.fragging {
		return nil, false, ErrProtocol
	}
	if f.Fin && !a.fragging {
		return f.Payload, true, nil
	}
	if len(a.frag)+len(f.Payload) > maxLen {
		return nil, false, ErrTooBig
	}
	a.frag = append(a.frag, f.Payload...)
	a.fragging = !f.Fin
	if !f.Fin {
		return nil, false, nil
	}
	msg, a.frag = a.frag, nil
	return msg, true, nil
}
