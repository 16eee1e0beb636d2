package main

import (
	"errors"
	"fmt"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/bus"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// config is the whole YAML file. Every section is optional.
type config struct {
	Server   fanout.Config   `yaml:"server"`
	Log      logConfig       `yaml:"log"`
	Book     book.Config     `yaml:"book"`
	Products []model.Product `yaml:"products"`
	Feeds    []feedConfig    `yaml:"feeds"`
	Debug    debugConfig     `yaml:"debug"`
	NATS     bus.Config      `yaml:"nats"` // see cluster.go
}

// logConfig chooses the log level and format.
type logConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is console (human-readable) or json. Default console.
	Format string `yaml:"format"`
}

// withDefaults fills the catalog and the feed list when the file leaves them out.
func (c config) withDefaults() config {
	if len(c.Products) == 0 {
		c.Products = model.DefaultProducts()
	}
	for i := range c.Products {
		c.Products[i] = c.Products[i].WithDefaults()
	}
	if len(c.Feeds) == 0 && c.NATS.Role != bus.RoleEdge {
		c.Feeds = []feedConfig{{}}
	}
	if c.NATS.Role == bus.RoleEdge {
		c.Feeds = nil // an edge follows NATS, not an upstream
	}
	for i := range c.Feeds {
		c.Feeds[i] = c.Feeds[i].WithDefaults()
	}
	return c
}

// Validate checks every section and how they fit together: feeds name known
// products, and each product comes from exactly one feed.
func (c config) Validate() error {
	errs := []error{
		yamlconf.Prefix("server", c.Server.Validate()),
		yamlconf.Prefix("log", c.Log.Validate()),
		yamlconf.Prefix("book", c.Book.Validate()),
		yamlconf.Prefix("debug", c.Debug.Validate()),
	}
	if c.Server.Listen != "" {
		if err := validateListen(c.Server.Listen); err != nil {
			errs = append(errs, yamlconf.Errorf("server.listen", "%v", err))
		}
	}
	known := map[string]bool{}
	for i, p := range c.Products {
		errs = append(errs, yamlconf.Prefix(fmt.Sprintf("products[%d]", i), validateProduct(p, known)))
	}
	if len(c.Products) == 0 {
		for _, p := range model.DefaultProducts() {
			known[p.ID] = true
		}
	}
	owner := map[string]string{}
	names := map[string]bool{}
	for i, f := range c.Feeds {
		field := fmt.Sprintf("feeds[%d]", i)
		errs = append(errs, yamlconf.Prefix(field, f.Validate()))
		name := f.WithDefaults().Name
		if names[name] {
			errs = append(errs, yamlconf.Errorf(field+".name", "feed name %q is used twice; give each feed its own name", name))
		}
		names[name] = true
		if len(f.Products) == 0 && len(c.Feeds) > 1 {
			errs = append(errs, yamlconf.Errorf(field+".products", "list the products of each feed when there are several feeds"))
		}
		for j, id := range f.Products {
			pf := fmt.Sprintf("%s.products[%d]", field, j)
			switch {
			case !known[id]:
				errs = append(errs, yamlconf.Errorf(pf, "%s is not in the products list", id))
			case owner[id] != "":
				errs = append(errs, yamlconf.Errorf(pf, "%s already comes from feed %s; a product has one feed", id, owner[id]))
			}
			owner[id] = name
		}
	}
	errs = append(errs, c.validateNATS(known))
	return errors.Join(errs...)
}

func validateProduct(p model.Product, seen map[string]bool) error {
	var errs []error
	switch {
	case p.ID == "":
		errs = append(errs, yamlconf.Errorf("id", "is required, like BTC-USD"))
	case seen[p.ID]:
		errs = append(errs, yamlconf.Errorf("id", "%s is listed twice", p.ID))
	}
	seen[p.ID] = true
	if p.QuoteIncrement.IsNegative() {
		errs = append(errs, yamlconf.Errorf("quote_increment", "must be > 0 (got %s)", p.QuoteIncrement))
	}
	if p.BaseIncrement.IsNegative() {
		errs = append(errs, yamlconf.Errorf("base_increment", "must be > 0 (got %s)", p.BaseIncrement))
	}
	return errors.Join(errs...)
}

// Validate checks the level and format names.
func (l logConfig) Validate() error {
	var errs []error
	switch l.Level {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, yamlconf.Errorf("level", "must be debug, info, warn or error (got %q)", l.Level))
	}
	switch l.Format {
	case "", "console", "json":
	default:
		errs = append(errs, yamlconf.Errorf("format", "must be console or json (got %q)", l.Format))
	}
	return errors.Join(errs...)
}

// feedProducts resolves a feed's product ids to catalog entries.
func (c config) feedProducts(f feedConfig) []model.Product {
	if len(f.Products) == 0 {
		return c.Products
	}
	byID := map[string]model.Product{}
	for _, p := range c.Products {
		byID[p.ID] = p
	}
	out := make([]model.Product, 0, len(f.Products))
	for _, id := range f.Products {
		out = append(out, byID[id])
	}
	return out
}
