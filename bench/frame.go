package bench

import "github.com/gobwas/ws"

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
