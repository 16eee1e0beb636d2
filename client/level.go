package client

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

// Level is one price level of a book: an exact price and the total size
// resting there. The server's text of both is kept, because the checksum
// extension is computed over it.
type Level struct {
	Price decimal.Decimal
	Size  decimal.Decimal

	priceText, sizeText string
}

// PriceText is the price as the server wrote it (padded to the product's
// quote increment).
func (l Level) PriceText() string { return l.priceText }

// SizeText is the size as the server wrote it.
func (l Level) SizeText() string { return l.sizeText }

// UnmarshalJSON reads ["price","size"] (extra elements, such as the order
// count of the REST book, are ignored).
func (l *Level) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) < 2 {
		return fmt.Errorf("client: level %s: want [price, size]", b)
	}
	return l.decode(a[0], a[1])
}

func (l *Level) decode(price, size json.RawMessage) error {
	var err error
	if l.priceText, l.Price, err = decodeDecimal(price); err != nil {
		return err
	}
	l.sizeText, l.Size, err = decodeDecimal(size)
	return err
}

// MarshalJSON writes ["price","size"] with the server's text.
func (l Level) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{l.text(l.priceText, l.Price), l.text(l.sizeText, l.Size)})
}

func (l Level) text(s string, d decimal.Decimal) string {
	if s != "" {
		return s
	}
	return d.String()
}

// Change is one entry of an l2update: the new total size at a price on a
// side ("buy" is the bid side, "sell" the ask side); a zero size removes the
// level.
type Change struct {
	Side string
	Level
}

// UnmarshalJSON reads ["buy"|"sell","price","size"].
func (c *Change) UnmarshalJSON(b []byte) error {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if len(a) != 3 {
		return fmt.Errorf("client: change %s: want [side, price, size]", b)
	}
	if err := json.Unmarshal(a[0], &c.Side); err != nil {
		return err
	}
	if c.Side != "buy" && c.Side != "sell" {
		return fmt.Errorf("client: change %s: side must be buy or sell", b)
	}
	return c.Level.decode(a[1], a[2])
}

// MarshalJSON writes ["side","price","size"].
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal([3]string{c.Side, c.text(c.priceText, c.Price), c.text(c.sizeText, c.Size)})
}

// decodeDecimal reads a JSON string holding a decimal.
func decodeDecimal(raw json.RawMessage) (string, decimal.Decimal, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", decimal.Decimal{}, fmt.Errorf("client: decimal %s: %w", raw, err)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", decimal.Decimal{}, fmt.Errorf("client: decimal %q: %w", s, err)
	}
	return s, d, nil
}
