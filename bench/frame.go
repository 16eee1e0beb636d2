package bench

import (
	"encoding/binary"

	"github.com/gobwas/ws"
)

// serverFrame is one WebSocket frame from the server; payload aliases the
// read buffer.
type serverFrame struct {
	op      ws.OpCode
	fin     bool
	payload []byte
}

// nextFrame parses the server frame at the start of b (RFC 6455 5.2). It
// returns the frame and its length in b; n is 0 when b does not hold the whole
// frame yet, and need is then the frame's total length once its header is in
// (0 before). Server frames are never masked. maxLen bounds the payload.
func nextFrame(b []byte, maxLen int) (f serverFrame, n, need int, err error) {
	if len(b) < 2 {
		return f, 0, 0, nil
	}
	f.fin = b[0]&0x80 != 0
	rsv := b[0] & 0x70
	f.op = ws.OpCode(b[0] & 0x0f)
	if b[1]&0x80 != 0 || rsv != 0 || f.op.IsReserved() {
		return f, 0, 0, ErrFrame
	}
	hlen := 2
	length := uint64(b[1] & 0x7f)
	switch length {
	case 126:
		if len(b) < 4 {
			return f, 0, 0, nil
		}
		length = uint64(binary.BigEndian.Uint16(b[2:]))
		hlen = 4
	case 127:
		if len(b) < 10 {
			return f, 0, 0, nil
		}
		length = binary.BigEndian.Uint64(b[2:])
		hlen = 10
	}
	if f.op.IsControl() && (!f.fin || length > 125) {
		return f, 0, 0, ErrFrame
	}
	if length > uint64(maxLen) {
		return f, 0, 0, ErrTooBig
	}
	total := hlen + int(length)
	if len(b) < total {
		return f, 0, total, nil
	}
	f.payload = b[hlen:total]
	return f, total, total, nil
}

// clientFrame builds a masked client frame (RFC 6455 5.3) with a fresh mask.
func clientFrame(op ws.OpCode, payload []byte) []byte {
	f := ws.NewFrame(op, true, append([]byte(nil), payload...))
	f = ws.MaskFrameInPlace(f)
	b, err := ws.CompileFrame(f)
	if err != nil { // only for a control frame over 125 bytes: a bug here
		panic(err)
	}
	return b
}
