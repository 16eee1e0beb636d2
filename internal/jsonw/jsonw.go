// Package jsonw writes JSON strings. Every string tickerfan puts on the wire
// (to clients and to the bus) goes through AppendString, so the output is
// valid JSON for any input: control characters, quotes and backslashes are
// escaped and invalid UTF-8 is replaced, as encoding/json does. Go's
// strconv.Quote is not JSON (it writes \a, \x07, \U0001f600).
package jsonw

import "unicode/utf8"

const hex = "0123456789abcdef"

// safe[c] is true for the ASCII bytes written as they are: all but the
// control characters, '"' and '\\' (RFC 8259, section 7; DEL needs no
// escape). encoding/json's HTML escaping of <, > and & is left out: the output
// is not embedded in HTML.
var safe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s to dst as a quoted JSON string and returns the
// extended buffer. Control characters become \n, \r, \t or \u00XX, invalid
// UTF-8 bytes become U+FFFD, and U+2028 and U+2029 are escaped as
// encoding/json escapes them (JavaScript treats them as line ends). It
// allocates only when dst has no room. Hot path: a run of safe bytes is
// copied at once.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscape(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendEscape appends the escape of one ASCII byte that is not safe.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}

// Ellipsis ends a string that Clip shortened.
const Ellipsis = "…"

// Clip returns s cut to at most max bytes followed by Ellipsis when it is
// longer, for echoing client input in an error reply without echoing all of
// it. The cut falls on a UTF-8 boundary when s is valid UTF-8 there. s is
// returned as it is when it fits.
func Clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Ellipsis
}
