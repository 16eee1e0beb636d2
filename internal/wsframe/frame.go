// Package wsframe parses WebSocket frames (RFC 6455) out of a connection's
// buffered input without blocking, keeps that input in a pooled buffer that an
// idle connection gives back, and joins fragmented messages. The server
// (fanout, masked client frames) and the load tool (bench, unmasked server
// frames) both read sockets this way.
package wsframe

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

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

// Assembler joins the fragments of a data message (RFC 6455, 5.4) and checks
// that a text message is UTF-8 as its fragments arrive (8.1).
type Assembler struct {
	frag     []byte
	fragging bool
	text     bool // the message being joined is text
	utf8     UTF8
}

// Add takes one data frame (text, binary or continuation). It returns the
// whole message once its last fragment is in; the message aliases the frame
// payload when it came in one frame. maxLen bounds the joined message. A text
// message that is not UTF-8 returns ErrInvalidUTF8 at the first fragment that
// shows it.
func (a *Assembler) Add(f Frame, maxLen int) (msg []byte, done bool, err error) {
	if (f.Op == ws.OpContinuation) != a.fragging {
		return nil, false, ErrProtocol
	}
	if !a.fragging {
		a.text, a.utf8 = f.Op == ws.OpText, UTF8{}
	}
	if a.text && (!a.utf8.Write(f.Payload) || (f.Fin && !a.utf8.Complete())) {
		return nil, false, ErrInvalidUTF8
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
