package model

import "github.com/shopspring/decimal"

// defaultProducts are the markets the built-in simulator trades when the
// configuration names none, with the increments Coinbase Exchange lists for
// them (GET /products).
var defaultProducts = []Product{
	{ID: "BTC-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, -8)},
	{ID: "ETH-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, -8)},
	{ID: "SOL-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, -8)},
	{ID: "ETH-BTC", QuoteIncrement: decimal.New(1, -5), BaseIncrement: decimal.New(1, -8),
		MinMarketFunds: decimal.New(1, -5)},
	{ID: "DOGE-USD", QuoteIncrement: decimal.New(1, -5), BaseIncrement: decimal.New(1, -1)},
	{ID: "AVAX-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, -8)},
	{ID: "LTC-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, -8)},
	{ID: "LINK-USD", QuoteIncrement: decimal.New(1, -3), BaseIncrement: decimal.New(1, -2)},
}

// defaultStartPrices are plausible prices for the default products, on their
// price grids.
var defaultStartPrices = map[string]decimal.Decimal{
	"BTC-USD":  decimal.New(4300000, -2), // 43000.00
	"ETH-USD":  decimal.New(230000, -2),  // 2300.00
	"SOL-USD":  decimal.New(9800, -2),    // 98.00
	"ETH-BTC":  decimal.New(5350, -5),    // 0.05350
	"DOGE-USD": decimal.New(8500, -5),    // 0.08500
	"AVAX-USD": decimal.New(3500, -2),    // 35.00
	"LTC-USD":  decimal.New(7200, -2),    // 72.00
	"LINK-USD": decimal.New(14500, -3),   // 14.500
}

// currencyNames are the display names of the currencies tickerfan knows, as
// the /currencies REST endpoint reports them.
var currencyNames = map[string]string{
	"AVAX": "Avalanche",
	"BTC":  "Bitcoin",
	"DOGE": "Dogecoin",
	"ETH":  "Ether",
	"EUR":  "Euro",
	"GBP":  "British Pound",
	"LINK": "Chainlink",
	"LTC":  "Litecoin",
	"SOL":  "Solana",
	"USD":  "United States Dollar",
	"USDC": "USD Coin",
	"USDT": "Tether",
}

// DefaultProducts returns the markets the built-in simulator trades by default,
// with defaults filled in (WithDefaults). The slice is the caller's.
func DefaultProducts() []Product {
	out := make([]Product, len(defaultProducts))
	for i, p := range defaultProducts {
		out[i] = p.WithDefaults()
	}
	return out
}

// DefaultStartPrice returns a plausible price for one of the default products,
// on its price grid, and false for any other id.
func DefaultStartPrice(id string) (decimal.Decimal, bool) {
	p, ok := defaultStartPrices[id]
	return p, ok
}

// CurrencyName returns the display name of a currency code ("BTC" is
// "Bitcoin"), or the code itself when it is not one tickerfan knows.
func CurrencyName(code string) string {
	if name, ok := currencyNames[code]; ok {
		return name
	}
	return code
}
