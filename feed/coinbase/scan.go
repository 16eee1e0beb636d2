package coinbase

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/tickerfan/tickerfan/feed"
)

// maxDepth is how deeply arrays and objects may nest in a message, as
// encoding/json allows.
const maxDepth = 10000

// maxScratchCells is how many snapshot cells a message's scratch keeps for
// the next one; a deeper snapshot's are let go.
const maxScratchCells = 1 << 14

// msgScanner reads one upstream message, a JSON object, into a cbMessage in
// one pass, without reflection: the feed's goroutine decodes every message
// the upstream sends, and under load encoding/json was most of its time.
//
// It accepts exactly what encoding/json accepts, with these rules for what
// it reads: keys match exactly, as the protocol spells them; when a key
// repeats, its last value wins; null is the field's zero value. A syntax
// error anywhere rejects the message as bad_json; a value of the wrong type
// (a number where a string belongs, a float trade_id) as bad_field, once the
// whole message is known to be valid JSON. Fields it does not read are
// checked and skipped.
type msgScanner struct {
	b        []byte
	i        int
	m        *cbMessage
	fieldErr *decodeError // the first value of the wrong type
}

// decodeMessage parses one upstream message into m (reset first).
func decodeMessage(raw []byte, m *cbMessage) *decodeError {
	m.reset()
	s := msgScanner{b: raw, m: m}
	s.space()
	if s.peek() != '{' {
		return reject(feed.ReasonBadJSON, "not a JSON object")
	}
	if err := s.object(1, s.member); err != nil {
		return err
	}
	s.space()
	if s.i != len(s.b) {
		return s.syntax("data after the object")
	}
	if s.fieldErr != nil {
		return s.fieldErr
	}
	if m.Type == "" {
		return reject(feed.ReasonBadField, "no type")
	}
	return nil
}

// member reads the value of the top-level key.
func (s *msgScanner) member(key []byte, depth int) *decodeError {
	m := s.m
	switch string(key) {
	case "type":
		return s.typeName(&m.Type)
	case "product_id":
		return s.str(&m.ProductID, "product_id", depth)
	case "sequence":
		m.HasSequence = false
		return s.int(&m.Sequence, &m.HasSequence, "sequence", depth)
	case "time":
		return s.str(&m.Time, "time", depth)
	case "bids":
		return s.table(&m.Bids, "bids", depth)
	case "asks":
		return s.table(&m.Asks, "asks", depth)
	case "changes":
		return s.table(&m.Changes, "changes", depth)
	case "trade_id":
		return s.int(&m.TradeID, nil, "trade_id", depth)
	case "maker_order_id":
		return s.str(&m.MakerOrderID, "maker_order_id", depth)
	case "taker_order_id":
		return s.str(&m.TakerOrderID, "taker_order_id", depth)
	case "side":
		return s.str(&m.Side, "side", depth)
	case "price":
		return s.str(&m.Price, "price", depth)
	case "size":
		return s.str(&m.Size, "size", depth)
	case "last_size":
		return s.str(&m.LastSize, "last_size", depth)
	case "open_24h":
		return s.str(&m.Open24h, "open_24h", depth)
	case "high_24h":
		return s.str(&m.High24h, "high_24h", depth)
	case "low_24h":
		return s.str(&m.Low24h, "low_24h", depth)
	case "volume_24h":
		return s.str(&m.Volume24h, "volume_24h", depth)
	case "volume_30d":
		return s.str(&m.Volume30d, "volume_30d", depth)
	case "last_trade_id":
		return s.int(&m.LastTradeID, nil, "last_trade_id", depth)
	case "message":
		return s.str(&m.Message, "message", depth)
	case "reason":
		return s.str(&m.Reason, "reason", depth)
	case "products":
		return s.products(depth)
	}
	return s.skip(depth)
}

// object reads an object whose '{' is next and that opens at depth, calling
// member for each key with the value next.
func (s *msgScanner) object(depth int, member func(key []byte, depth int) *decodeError) *decodeError {
	return s.container(depth, '}', func() *decodeError {
		if s.peek() != '"' {
			return s.syntax("expected a key")
		}
		key, err := s.key()
		if err != nil {
			return err
		}
		s.space()
		if s.peek() != ':' {
			return s.syntax("expected : after a key")
		}
		s.i++
		s.space()
		return member(key, depth)
	})
}

// array reads an array whose '[' is next and that opens at depth, calling
// elem with each element next.
func (s *msgScanner) array(depth int, elem func(depth int) *decodeError) *decodeError {
	return s.container(depth, ']', func() *decodeError { return elem(depth) })
}

// container reads an object or array that opens at depth and ends with
// end, calling item for each member or element with it next.
func (s *msgScanner) container(depth int, end byte, item func() *decodeError) *decodeError {
	if depth > maxDepth {
		return s.syntax("nested too deeply")
	}
	s.i++ // '{' or '['
	s.space()
	if s.peek() == end {
		s.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case end:
			s.i++
			return nil
		default:
			return s.syntax("expected , or " + string(end) + " after a member or element")
		}
	}
}

// key reads an object key, unescaped.
func (s *msgScanner) key() ([]byte, *decodeError) {
	start := s.i
	raw, plain, err := s.scanString()
	if err != nil {
		return nil, err
	}
	if plain {
		return raw, nil
	}
	return []byte(unquote(s.b[start:s.i])), nil
}

// typeName reads the type, sharing the string of every type tickerfan
// knows.
func (s *msgScanner) typeName(dst *string) *decodeError {
	if s.peek() == '"' {
		start := s.i
		raw, plain, err := s.scanString()
		if err != nil {
			return err
		}
		if plain {
			*dst = internType(raw)
		} else {
			*dst = unquote(s.b[start:s.i])
		}
		return nil
	}
	return s.str(dst, "type", 1)
}

// internType returns a message type without allocating for the known ones.
func internType(raw []byte) string {
	for _, t := range knownTypes {
		if string(raw) == t {
			return t
		}
	}
	return string(raw)
}

var knownTypes = [...]string{"ticker", "match", "l2update", "heartbeat", "snapshot", "last_match",
	"status", "subscriptions", "error"}

// str reads a string field at depth.
func (s *msgScanner) str(dst *string, field string, depth int) *decodeError {
	switch s.peek() {
	case '"':
		v, err := s.stringValue()
		*dst = v
		return err
	case 'n':
		*dst = ""
		return s.literal("null")
	}
	return s.mismatch(field, "string", depth)
}

// int reads an integer field at depth; has, when given, says whether it
// was set (null leaves it unset).
func (s *msgScanner) int(dst *int64, has *bool, field string, depth int) *decodeError {
	switch c := s.peek(); {
	case c == '-' || isDigit(c):
		tok, err := s.number()
		if err != nil {
			return err
		}
		v, ok := parseInt(tok)
		if !ok {
			s.wrongType(field, "number "+string(tok), "int64")
			return nil
		}
		*dst = v
		if has != nil {
			*has = true
		}
		return nil
	case c == 'n':
		*dst = 0
		return s.literal("null")
	}
	return s.mismatch(field, "int64", depth)
}

// table reads an array of arrays of strings (snapshot sides, changes) into
// the message's scratch.
func (s *msgScanner) table(dst *[][]string, field string, depth int) *decodeError {
	switch s.peek() {
	case 'n':
		*dst = nil
		return s.literal("null")
	case '[':
	default:
		return s.mismatch(field, "[][]string", depth)
	}
	m := s.m
	first := len(m.rows)
	err := s.array(depth+1, func(depth int) *decodeError {
		switch s.peek() {
		case 'n':
			m.rows = append(m.rows, nil)
			return s.literal("null")
		case '[':
		default:
			m.rows = append(m.rows, nil)
			return s.mismatch(field, "[]string", depth)
		}
		start := len(m.cells)
		err := s.array(depth+1, func(depth int) *decodeError {
			var v string
			err := s.str(&v, field, depth)
			m.cells = append(m.cells, v)
			return err
		})
		m.rows = append(m.rows, m.cells[start:len(m.cells):len(m.cells)])
		return err
	})
	*dst = m.rows[first:len(m.rows):len(m.rows)]
	return err
}

// products reads the products of a status message.
func (s *msgScanner) products(depth int) *decodeError {
	m := s.m
	switch s.peek() {
	case 'n':
		m.Products = nil
		return s.literal("null")
	case '[':
	default:
		return s.mismatch("products", "[]product", depth)
	}
	m.Products = make([]cbProductStatus, 0, 8)
	return s.array(depth+1, func(depth int) *decodeError {
		m.Products = append(m.Products, cbProductStatus{})
		p := &m.Products[len(m.Products)-1]
		switch s.peek() {
		case 'n':
			return s.literal("null")
		case '{':
		default:
			return s.mismatch("products", "product", depth)
		}
		return s.object(depth+1, func(key []byte, depth int) *decodeError {
			switch string(key) {
			case "id":
				return s.str(&p.ID, "products.id", depth)
			case "status":
				return s.str(&p.Status, "products.status", depth)
			case "status_message":
				return s.str(&p.StatusMessage, "products.status_message", depth)
			}
			return s.skip(depth)
		})
	})
}

// mismatch records a value of the wrong type for field and skips it.
func (s *msgScanner) mismatch(field, want string, depth int) *decodeError {
	s.wrongType(field, valueKind(s.peek()), want)
	return s.skip(depth)
}

func (s *msgScanner) wrongType(field, got, want string) {
	if s.fieldErr == nil {
		s.fieldErr = reject(feed.ReasonBadField, field+": "+quoteShort(got)+" where "+want+" was expected")
	}
}

// valueKind names the kind of value starting with c.
func valueKind(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == '-' || isDigit(c):
		return "number"
	}
	return "value"
}

// skip checks and skips any value inside depth open containers.
func (s *msgScanner) skip(depth int) *decodeError {
	switch c := s.peek(); {
	case c == '"':
		_, _, err := s.scanString()
		return err
	case c == '{':
		return s.object(depth+1, func(_ []byte, depth int) *decodeError { return s.skip(depth) })
	case c == '[':
		return s.array(depth+1, s.skip)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		_, err := s.number()
		return err
	}
	return s.syntax("expected a value")
}

// stringValue reads a string value. Strings without escapes and with valid
// UTF-8 (nearly all) are copied as they are; others are unquoted as
// encoding/json does (invalid UTF-8 becomes U+FFFD).
func (s *msgScanner) stringValue() (string, *decodeError) {
	start := s.i
	raw, plain, err := s.scanString()
	if err != nil {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	return unquote(s.b[start:s.i]), nil
}

// scanString checks and skips the string whose '"' is next, returning its
// contents; plain is true when they hold no escape and are valid UTF-8.
func (s *msgScanner) scanString() (raw []byte, plain bool, err *decodeError) {
	s.i++ // '"'
	start, ascii, escaped := s.i, true, false
	b := s.b
	for {
		j := s.i
		for j < len(b) && !strStop[b[j]] {
			j++
		}
		s.i = j
		switch c := s.peek(); {
		case s.i >= len(s.b):
			return nil, false, s.syntax("unterminated string")
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, !escaped && (ascii || utf8.Valid(raw)), nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, s.syntax("control character in a string")
		default:
			ascii = false
			s.i++
		}
	}
}

// strStop marks the bytes scanString must look at: the end quote, escapes,
// control characters and the start of multi-byte UTF-8.
var strStop = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// escape checks and skips the escape whose '\' is next.
func (s *msgScanner) escape() *decodeError {
	s.i++
	switch s.peek() {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i++
		return nil
	case 'u':
		if s.i+4 >= len(s.b) {
			return s.syntax("short \\u escape")
		}
		for _, h := range s.b[s.i+1 : s.i+5] {
			if !isHex(h) {
				return s.syntax("bad \\u escape")
			}
		}
		s.i += 5
		return nil
	}
	return s.syntax("bad escape")
}

// unquote decodes a checked string token, escapes and all.
func unquote(tok []byte) string {
	var v string
	if err := json.Unmarshal(tok, &v); err != nil {
		return string(tok) // unreachable: scanString checked the token
	}
	return v
}

// number checks and skips a number, returning its text.
func (s *msgScanner) number() ([]byte, *decodeError) {
	start := s.i
	if s.peek() == '-' {
		s.i++
	}
	switch {
	case s.peek() == '0':
		s.i++
	case isDigit(s.peek()):
		s.digits()
	default:
		return nil, s.syntax("bad number")
	}
	if s.peek() == '.' {
		s.i++
		if !isDigit(s.peek()) {
			return nil, s.syntax("bad number")
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !isDigit(s.peek()) {
			return nil, s.syntax("bad number")
		}
		s.digits()
	}
	return s.b[start:s.i], nil
}

func (s *msgScanner) digits() {
	for isDigit(s.peek()) {
		s.i++
	}
}

// literal checks and skips true, false or null.
func (s *msgScanner) literal(word string) *decodeError {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.syntax("expected " + word)
	}
	s.i += len(word)
	return nil
}

func (s *msgScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte, 0 at the end (never valid where it is read).
func (s *msgScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *msgScanner) syntax(what string) *decodeError {
	return reject(feed.ReasonBadJSON, what+" at byte "+strconv.Itoa(s.i))
}

// parseInt reads a JSON integer token as int64, as encoding/json does:
// false for fractions, exponents and values out of range.
func parseInt(tok []byte) (int64, bool) {
	neg := len(tok) > 0 && tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	if len(tok) == 0 || len(tok) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range tok {
		if !isDigit(c) {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }
