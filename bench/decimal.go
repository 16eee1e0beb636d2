package bench

import "github.com/shopspring/decimal"

// Level-2 prices and sizes are compared as exact decimals, never as floats:
// each is kept in one canonical spelling, so that "100.50" and "100.5" are one
// price and string equality is numeric equality.

// appendCanonical appends the canonical spelling of the decimal s to dst:
// no leading zeros before the point, no trailing zeros after it, no point
// when nothing follows it, no sign on zero ("0012.3400" -> "12.34",
// "-0.0" -> "0"). That is shopspring/decimal's String for the same number.
// Plain decimals are rewritten in place without allocating (the reader's hot
// path); anything else (an exponent, a plus sign) goes through
// decimal.NewFromString. It reports false when s is not a number.
func appendCanonical(dst, s []byte) ([]byte, bool) {
	neg := len(s) > 0 && s[0] == '-'
	body := s
	if neg {
		body = s[1:]
	}
	intPart, frac, ok := splitPlain(body)
	if !ok {
		return appendParsed(dst, s)
	}
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if neg && !(len(intPart) == 1 && intPart[0] == '0' && len(frac) == 0) {
		dst = append(dst, '-')
	}
	dst = append(dst, intPart...)
	if len(frac) > 0 {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst, true
}

// splitPlain splits digits[.digits] into its integer and fraction digits;
// ok is false for anything else. An empty integer part (".5") reads as 0.
func splitPlain(s []byte) (intPart, frac []byte, ok bool) {
	dot := -1
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && dot < 0:
			dot = i
		default:
			return nil, nil, false
		}
	}
	intPart, frac = s, nil
	if dot >= 0 {
		intPart, frac = s[:dot], s[dot+1:]
	}
	if len(intPart)+len(frac) == 0 {
		return nil, nil, false
	}
	if len(intPart) == 0 {
		intPart = zero
	}
	return intPart, frac, true
}

var zero = []byte("0")

// maxExponent bounds the exponent of a spelling like "1e5": a server that
// sends "1e999999999" must not make the bench write a billion zeros.
const maxExponent = 64

// appendParsed is appendCanonical's slow path for spellings with an exponent.
func appendParsed(dst, s []byte) ([]byte, bool) {
	d, err := decimal.NewFromString(string(s))
	if err != nil || d.Exponent() > maxExponent || d.Exponent() < -maxExponent {
		return dst, false
	}
	return append(dst, d.String()...), true
}

// maxInterned bounds an interner; past it the table starts afresh (the
// strings already handed out stay valid). Sharing needs only the recent
// spellings: the subscribers of a product get an update at about the same
// time.
const maxInterned = 1 << 14

// interner hands out one string per distinct spelling, so the many
// subscribers of a product share the strings of its levels instead of
// allocating their own. It belongs to one reader and is used under its mu.
type interner struct {
	m   map[string]string
	buf []byte
}

// canonical returns the interned canonical spelling of the decimal s.
func (in *interner) canonical(s []byte) (string, bool) {
	var ok bool
	in.buf, ok = appendCanonical(in.buf[:0], s)
	if !ok {
		return "", false
	}
	if v, hit := in.m[string(in.buf)]; hit { // no allocation for the lookup
		return v, true
	}
	if in.m == nil || len(in.m) >= maxInterned {
		in.m = make(map[string]string, 1024)
	}
	v := string(in.buf)
	in.m[v] = v
	return v, true
}
