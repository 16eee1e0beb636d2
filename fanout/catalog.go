package fanout

import (
	"fmt"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// currency is one entry of /currencies and of the status channel.
type currency struct {
	ID      string
	Name    string
	MinSize string // the finest increment any product trades it in
}

// productIndex is a product's position in the catalog.
type productIndex uint16

// maxProducts is how many products a productIndex can name.
const maxProducts = 1<<16 - 1

// catalog is the fixed list of products the server carries, indexed.
type catalog struct {
	products   []model.Product
	index      map[string]int
	ids        []string
	currencies []currency
}

func newCatalog(products []model.Product) (*catalog, error) {
	if len(products) == 0 {
		return nil, ErrNoProducts
	}
	if len(products) > maxProducts {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyProducts, len(products), maxProducts)
	}
	c := &catalog{index: make(map[string]int, len(products))}
	finest := map[string]decimal.Decimal{}
	var order []string
	note := func(code string, inc decimal.Decimal) {
		cur, seen := finest[code]
		if !seen {
			order = append(order, code)
		}
		if !seen || inc.LessThan(cur) {
			finest[code] = inc
		}
	}
	for _, p := range products {
		p = p.WithDefaults()
		if _, dup := c.index[p.ID]; dup {
			return nil, fmt.Errorf("%w: %s", ErrDuplicateProduct, p.ID)
		}
		c.index[p.ID] = len(c.products)
		c.products = append(c.products, p)
		c.ids = append(c.ids, p.ID)
		note(p.BaseCurrency, p.BaseIncrement)
		note(p.QuoteCurrency, p.QuoteIncrement)
	}
	for _, code := range order {
		c.currencies = append(c.currencies, currency{
			ID: code, Name: model.CurrencyName(code), MinSize: finest[code].String(),
		})
	}
	return c, nil
}
