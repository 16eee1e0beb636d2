package feed

import "errors"

// ErrNoProducts is returned by NewSimulator when it is given no products;
// configure at least one (or use DefaultProducts).
var ErrNoProducts = errors.New("feed: no products")

// ErrDuplicateProduct is returned when a feed lists the same product id twice;
// the configuration must name each product once.
var ErrDuplicateProduct = errors.New("feed: duplicate product")

// ErrBadIncrement is returned when a product's quote or base increment is not
// a positive decimal of at most 11 significant digits; fix the product's
// increments in the configuration.
var ErrBadIncrement = errors.New("feed: bad product increment")
