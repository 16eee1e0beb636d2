package bus

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// reader decodes the fields of one message. The first error sticks: every
// later read returns a zero value, and end reports it.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// header reads and checks the version byte.
func (r *reader) header() error {
	if v := r.byte(); r.err == nil && v != Version {
		return fmt.Errorf("%w: %d", ErrVersion, v)
	}
	return r.err
}

// end reports the first error, or ErrTrailing when bytes are left.
func (r *reader) end() error {
	if r.err == nil && len(r.b) > 0 {
		return fmt.Errorf("%w: %d", ErrTrailing, len(r.b))
	}
	return r.err
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail(ErrTruncated)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bool() bool {
	switch c := r.byte(); c {
	case 0, 1:
		return c == 1
	}
	r.fail(fmt.Errorf("%w: bool", ErrField))
	return false
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(ErrTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(ErrTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) time() time.Time {
	if ns := r.varint(); ns != 0 {
		return time.Unix(0, ns).UTC()
	}
	return time.Time{}
}

// count reads a count of items each at least min bytes long, refusing one
// the rest of the message cannot hold.
func (r *reader) count(min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("%w: count %d", ErrField, n))
		return 0
	}
	return int(n)
}

func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	switch {
	case r.err != nil:
		return nil
	case n > uint64(limit):
		r.fail(fmt.Errorf("%w: string of %d bytes", ErrField, n))
		return nil
	case n > uint64(len(r.b)):
		r.fail(ErrTruncated)
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) string() string { return string(r.bytes(maxString)) }

// decimal reads a plain decimal: digits with at most one point and a leading
// minus, no exponent, so no value costs more than its bytes.
func (r *reader) decimal() decimal.Decimal {
	s := r.bytes(maxDecimal)
	if r.err != nil {
		return decimal.Decimal{}
	}
	if !plainDecimal(s) {
		r.fail(fmt.Errorf("%w: decimal %q", ErrField, s))
		return decimal.Decimal{}
	}
	d, err := decimal.NewFromString(string(s))
	if err != nil {
		r.fail(fmt.Errorf("%w: decimal %q", ErrField, s))
	}
	return d
}

func plainDecimal(s []byte) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	digits, points := 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

func (r *reader) side() model.Side {
	s := model.Side(r.byte())
	if r.err == nil && s != model.Buy && s != model.Sell {
		r.fail(fmt.Errorf("%w: side %d", ErrField, s))
	}
	return s
}

func (r *reader) levels() []model.Level {
	n := r.count(2)
	if n == 0 {
		return nil
	}
	ls := make([]model.Level, n)
	for i := range ls {
		ls[i] = model.Level{Price: r.decimal(), Size: r.decimal()}
	}
	return ls
}

func (r *reader) changes() []model.Change {
	n := r.count(3)
	if n == 0 {
		return nil
	}
	cs := make([]model.Change, n)
	for i := range cs {
		cs[i].Side = r.side()
		cs[i].Price = r.decimal()
		cs[i].Size = r.decimal()
	}
	return cs
}

func (r *reader) trade() model.Trade {
	var t model.Trade
	t.TradeID = r.varint()
	t.MakerOrderID = r.string()
	t.TakerOrderID = r.string()
	t.Side = r.side()
	t.Price = r.decimal()
	t.Size = r.decimal()
	return t
}

func (r *reader) ticker() book.Ticker {
	var t book.Ticker
	if !r.bool() {
		return t
	}
	t.TradeID = r.varint()
	t.Price = r.decimal()
	t.LastSize = r.decimal()
	t.Side = r.side()
	t.Time = r.time()
	for _, d := range [...]*decimal.Decimal{&t.Open24h, &t.High24h, &t.Low24h, &t.Volume24h,
		&t.Volume30d, &t.BestBid, &t.BestBidSize, &t.BestAsk, &t.BestAskSize} {
		*d = r.decimal()
	}
	return t
}
