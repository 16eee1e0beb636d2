package bench

import "time"

// Fields are the parts of a server message the bench measures by. Type and
// Product alias the scanned message: they are valid only as long as it is.
type Fields struct {
	// Type is the raw content of the top-level "type" string, nil if absent.
	Type []byte
	// Product is the raw content of the top-level "product_id" string.
	Product []byte
	// Seq is the top-level integer "sequence"; HasSeq says whether there is one.
	Seq    int64
	HasSeq bool
	// Time is the top-level "time" as Unix nanoseconds, 0 when absent or not
	// an RFC 3339 time.
	Time int64
}

// Scan extracts "type", "product_id", "sequence" and "time" from the top-level
// JSON object in msg by walking its bytes: no decoding into values, no
// allocation. Nested objects and arrays are skipped without looking inside
// (apart from their strings' escapes). When a key repeats, the last one wins,
// as with encoding/json. A string value holding escapes is returned raw.
//
// Scan checks structure only as far as it needs to find those keys; it returns
// ErrMalformed for what it cannot walk. It is the bench's hot path: one call
// per received message.
func Scan(msg []byte) (Fields, error) {
	var f Fields
	i := skipSpace(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return f, ErrMalformed
	}
	i = skipSpace(msg, i+1)
	if i < len(msg) && msg[i] == '}' {
		return f, nil
	}
	for {
		if i >= len(msg) || msg[i] != '"' {
			return f, ErrMalformed
		}
		end, ok := stringEnd(msg, i)
		if !ok {
			return f, ErrMalformed
		}
		key := msg[i+1 : end]
		i = skipSpace(msg, end+1)
		if i >= len(msg) || msg[i] != ':' {
			return f, ErrMalformed
		}
		i = skipSpace(msg, i+1)
		next, err := f.field(msg, i, key)
		if err != nil {
			return f, err
		}
		i = skipSpace(msg, next)
		if i >= len(msg) {
			return f, ErrMalformed
		}
		switch msg[i] {
		case ',':
			i = skipSpace(msg, i+1)
		case '}':
			return f, nil
		default:
			return f, ErrMalformed
		}
	}
}

// field reads the value at msg[i:] into f when key is one of ours, and returns
// the index just past the value.
func (f *Fields) field(msg []byte, i int, key []byte) (int, error) {
	end, err := skipValue(msg, i)
	if err != nil {
		return 0, err
	}
	v := msg[i:end]
	switch string(key) { // no allocation: the compiler compares in place
	case "type":
		f.Type = stringContent(v)
	case "product_id":
		f.Product = stringContent(v)
	case "sequence":
		f.Seq, f.HasSeq = parseInt(v)
	case "time":
		f.Time = 0
		if s := stringContent(v); s != nil {
			f.Time = ParseTime(s)
		}
	}
	return end, nil
}

// stringContent returns what is between the quotes of a JSON string token,
// nil for any other token.
func stringContent(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// parseInt reads a JSON integer that fits an int64.
func parseInt(v []byte) (int64, bool) {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index of the quote closing the string that opens at
// b[i], honouring backslash escapes.
func stringEnd(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j, true
		}
	}
	return 0, false
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, ErrMalformed
	}
	switch b[i] {
	case '"':
		end, ok := stringEnd(b, i)
		if !ok {
			return 0, ErrMalformed
		}
		return end + 1, nil
	case '{', '[':
		return skipNested(b, i)
	}
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	if j == i {
		return 0, ErrMalformed
	}
	return j, nil
}

// isDelim reports whether c ends a number or literal.
func isDelim(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// skipNested skips an object or array by counting brackets outside strings.
func skipNested(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			end, ok := stringEnd(b, j)
			if !ok {
				return 0, ErrMalformed
			}
			j = end
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, ErrMalformed
}

// ParseTime reads an RFC 3339 time as Unix nanoseconds, 0 when s is not one.
// The protocol's form, "2006-01-02T15:04:05.000000Z", is parsed by hand
// without allocating; anything else (an offset, another fraction width is
// fine too) falls back to time.Parse.
func ParseTime(s []byte) int64 {
	if ns, ok := parseUTC(s); ok {
		return ns
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// parseUTC parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" and checks every range.
func parseUTC(s []byte) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	var frac int64
	if rest := s[19 : len(s)-1]; len(rest) > 0 {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 10 {
			return 0, false
		}
		f, ok := digits(rest[1:])
		if !ok {
			return 0, false
		}
		for range 10 - len(rest) {
			f *= 10
		}
		frac = f
	}
	days := daysFromCivil(year, month, day)
	return (days*86400+hour*3600+minute*60+sec)*1e9 + frac, true
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days since 1970-01-01 in the proleptic Gregorian
// calendar (the era-based method of H. Hinnant's "chrono-compatible low-level
// date algorithms").
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
