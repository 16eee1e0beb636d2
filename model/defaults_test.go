package model

import (
	"testing"

	"github.com/shopspring/decimal"
)

func TestDefaultProducts(t *testing.T) {
	want := []struct{ id, quote, base, price string }{
		{"BTC-USD", "0.01", "0.00000001", "43000.00"},
		{"ETH-USD", "0.01", "0.00000001", "2300.00"},
		{"SOL-USD", "0.01", "0.00000001", "98.00"},
		{"ETH-BTC", "0.00001", "0.00000001", "0.05350"},
		{"DOGE-USD", "0.00001", "0.1", "0.08500"},
		{"AVAX-USD", "0.01", "0.00000001", "35.00"},
		{"LTC-USD", "0.01", "0.00000001", "72.00"},
		{"LINK-USD", "0.001", "0.01", "14.500"},
	}
	ps := DefaultProducts()
	if len(ps) != len(want) {
		t.Fatalf("%d products, want %d", len(ps), len(want))
	}
	for i, w := range want {
		p := ps[i]
		if p.ID != w.id || p.QuoteIncrement.String() != w.quote || p.BaseIncrement.String() != w.base {
			t.Errorf("product %d: %s %s %s, want %s %s %s", i, p.ID, p.QuoteIncrement, p.BaseIncrement, w.id, w.quote, w.base)
		}
		if p.BaseCurrency+"-"+p.QuoteCurrency != p.ID || p.DisplayName != p.ID || !p.MinMarketFunds.IsPositive() {
			t.Errorf("%s: defaults not filled: %+v", p.ID, p)
		}
		price, ok := DefaultStartPrice(p.ID)
		if !ok || p.FormatPrice(price) != w.price {
			t.Errorf("%s: start price %s, %v; want %s", p.ID, price, ok, w.price)
		}
		if !price.Mod(p.QuoteIncrement).IsZero() {
			t.Errorf("%s: start price %s off the grid %s", p.ID, price, p.QuoteIncrement)
		}
	}
	ps[0].ID = "changed"
	if DefaultProducts()[0].ID != "BTC-USD" {
		t.Error("DefaultProducts shares its slice")
	}
}

func TestDefaultStartPriceUnknown(t *testing.T) {
	if p, ok := DefaultStartPrice("FOO-USD"); ok || !p.Equal(decimal.Zero) {
		t.Errorf("DefaultStartPrice(FOO-USD) = %s, %v; want 0, false", p, ok)
	}
}

func TestCurrencyName(t *testing.T) {
	for code, want := range map[string]string{
		"BTC": "Bitcoin", "ETH": "Ether", "USD": "United States Dollar", "DOGE": "Dogecoin",
		"LINK": "Chainlink", "XYZ": "XYZ", "": "",
	} {
		if got := CurrencyName(code); got != want {
			t.Errorf("CurrencyName(%q) = %q, want %q", code, got, want)
		}
	}
	for _, p := range DefaultProducts() {
		for _, c := range []string{p.BaseCurrency, p.QuoteCurrency} {
			if CurrencyName(c) == c {
				t.Errorf("no name for default currency %s", c)
			}
		}
	}
}
