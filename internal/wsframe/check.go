package wsframe

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// CheckClose parses the payload of a close frame received from the peer
// (RFC 6455, section 5.5.1). An empty payload gives code 1005 (no status
// received; the caller answers 1000). A 1-byte payload and a code a peer may
// not send (ValidCloseCode) return ErrProtocol; a reason that is not UTF-8
// returns ErrInvalidUTF8. The reason is a copy.
func CheckClose(payload []byte) (code ws.StatusCode, reason string, err error) {
	switch len(payload) {
	case 0:
		return ws.StatusNoStatusRcvd, "", nil
	case 1:
		return 0, "", ErrProtocol
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(payload))
	if !ValidCloseCode(code) {
		return 0, "", ErrProtocol
	}
	if !utf8.Valid(payload[2:]) {
		return 0, "", ErrInvalidUTF8
	}
	return code, string(payload[2:]), nil
}

// ValidCloseCode reports whether a peer may send code in a close frame: the
// codes RFC 6455 defines for use on the wire (1000-1003, 1007-1011), those
// IANA registered since (1012-1014), and the ranges for libraries and
// applications (3000-4999). 1004, 1005, 1006 and 1015 are reserved and never
// sent (section 7.4.1); the rest of 1000-2999 is unassigned.
func ValidCloseCode(code ws.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	}
	return code >= 3000 && code <= 4999
}

// UTF8 checks a text message as its fragments arrive, so a message that
// stops being UTF-8 is refused at the fragment that breaks it (RFC 6455,
// section 8.1), and a rune split across fragments is accepted. The zero
// value is ready for a new message.
type UTF8 struct {
	pend [utf8.UTFMax]byte // the start of a rune cut by the fragment's end
	n    int
	bad  bool
}

// Write checks the next fragment's payload and returns false once the
// message is not UTF-8.
func (v *UTF8) Write(p []byte) bool {
	if v.bad {
		return false
	}
	for v.n > 0 && len(p) > 0 {
		v.pend[v.n], p, v.n = p[0], p[1:], v.n+1
		if utf8.FullRune(v.pend[:v.n]) {
			if r, size := utf8.DecodeRune(v.pend[:v.n]); r == utf8.RuneError && size <= 1 {
				v.bad = true
				return false
			}
			v.n = 0
		}
	}
	if v.n > 0 {
		return true // p ended inside the pending rune
	}
	tail := len(p)
	for i := len(p) - 1; i >= 0 && i > len(p)-utf8.UTFMax; i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				tail = i
			}
			break
		}
	}
	if !utf8.Valid(p[:tail]) {
		v.bad = true
		return false
	}
	v.n = copy(v.pend[:], p[tail:])
	return true
}

// Complete reports whether everything written is UTF-8 with no rune left
// unfinished: call it after the message's last fragment.
func (v *UTF8) Complete() bool { return !v.bad && v.n == 0 }
