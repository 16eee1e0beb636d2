package model

import (
	"strings"

	"github.com/shopspring/decimal"
)

// Product describes one market: what it trades and on which price and size grid.
type Product struct {
	ID             string          `yaml:"id"`              // "BTC-USD"
	BaseCurrency   string          `yaml:"base_currency"`   // default: the part of ID before '-'
	QuoteCurrency  string          `yaml:"quote_currency"`  // default: the part of ID after '-'
	DisplayName    string          `yaml:"display_name"`    // default: "BASE-QUOTE"
	BaseIncrement  decimal.Decimal `yaml:"base_increment"`  // size grid; default 0.00000001
	QuoteIncrement decimal.Decimal `yaml:"quote_increment"` // price grid; default 0.01
	MinMarketFunds decimal.Decimal `yaml:"min_market_funds"`
}

// WithDefaults returns p with every empty field filled from its ID and the
// documented defaults.
func (p Product) WithDefaults() Product {
	base, quote, _ := strings.Cut(p.ID, "-")
	if p.BaseCurrency == "" {
		p.BaseCurrency = base
	}
	if p.QuoteCurrency == "" {
		p.QuoteCurrency = quote
	}
	if p.DisplayName == "" {
		p.DisplayName = p.BaseCurrency + "-" + p.QuoteCurrency
	}
	if p.BaseIncrement.IsZero() {
		p.BaseIncrement = decimal.New(1, -8)
	}
	if p.QuoteIncrement.IsZero() {
		p.QuoteIncrement = decimal.New(1, -2)
	}
	if p.MinMarketFunds.IsZero() {
		p.MinMarketFunds = decimal.NewFromInt(1)
	}
	return p
}

// PricePlaces is the number of decimal places of the price grid (2 for 0.01).
func (p Product) PricePlaces() int32 { return places(p.QuoteIncrement) }

// SizePlaces is the number of decimal places of the size grid (8 for 0.00000001).
func (p Product) SizePlaces() int32 { return places(p.BaseIncrement) }

// FormatPrice renders a price for the wire with at least the product's price
// places and never fewer digits than the value holds, so it stays exact.
func (p Product) FormatPrice(d decimal.Decimal) string { return Format(d, p.PricePlaces()) }

// FormatSize renders a size for the wire like FormatPrice, on the size grid.
func (p Product) FormatSize(d decimal.Decimal) string { return Format(d, p.SizePlaces()) }

// Format renders d with at least minPlaces decimal places and all of its own:
// it pads, it never rounds.
func Format(d decimal.Decimal, minPlaces int32) string {
	if own := -d.Exponent(); own > minPlaces {
		minPlaces = own
	}
	return d.StringFixed(minPlaces)
}

func places(inc decimal.Decimal) int32 {
	inc = inc.Normalize()
	if e := inc.Exponent(); e < 0 {
		return -e
	}
	return 0
}
