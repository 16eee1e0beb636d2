package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/bus"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// cluster is the node's part in a NATS cluster (the `nats:` section): an
// ingest publishes its market's events, an edge follows other nodes' into
// fanout, both does both. A single node has a cluster that does nothing.
type cluster struct {
	cfg  bus.Config
	log  *zap.Logger
	pubC *nats.Conn
	subC *nats.Conn
	pub  *bus.Publisher
	fol  *bus.Follower
}

// newCluster connects to NATS as cfg.NATS.Role asks and registers /cluster
// and the cluster metrics on srv.
func newCluster(cfg config, srv *fanout.Server, log *zap.Logger) (*cluster, error) {
	c := &cluster{cfg: cfg.NATS.WithDefaults(), log: log.Named("cluster")}
	if c.cfg.Role == bus.RoleSingle {
		return c, nil
	}
	var err error
	defer func() {
		if err != nil { // close what was opened
			c.stop()
		}
	}()
	if c.cfg.Ingests() {
		if c.pubC, err = bus.Connect(c.cfg, "tickerfan ingest "+c.cfg.IngestID, c.log); err != nil {
			return nil, err
		}
		if c.pub, err = bus.NewPublisher(c.pubC, c.cfg, cfg.feedOfProducts(), c.log); err != nil {
			return nil, err
		}
	}
	if c.cfg.Follows() {
		if c.subC, err = bus.Connect(c.cfg, "tickerfan edge", c.log); err != nil {
			return nil, err
		}
		if c.fol, err = bus.NewFollower(c.subC, c.cfg, cfg.followedProducts(), srv.Publish, c.log); err != nil {
			return nil, err
		}
	}
	srv.Handle("GET /cluster", http.HandlerFunc(c.serveHTTP))
	srv.Registry().MustRegister(&clusterCollector{c: c})
	return c, nil
}

// publish returns what the market publishes to: next, and NATS on an ingest.
func (c *cluster) publish(next func(book.Event)) func(book.Event) {
	if c.pub == nil {
		return next
	}
	return func(ev book.Event) {
		c.pub.Publish(ev)
		next(ev)
	}
}

// start answers snapshot requests from market and starts following.
func (c *cluster) start(market *book.Market) error {
	if c.pub != nil {
		if err := c.pub.Start(market); err != nil {
			return err
		}
		c.log.Info("publishing to nats", zap.String("url", c.cfg.URL), zap.String("ingest_id", c.cfg.IngestID),
			zap.Uint64("epoch", c.pub.Epoch()))
	}
	if c.fol != nil {
		if err := c.fol.Start(); err != nil {
			return err
		}
		c.log.Info("following nats", zap.String("url", c.cfg.URL))
	}
	return nil
}

// stop stops publishing and following and closes the connections.
func (c *cluster) stop() {
	if c.fol != nil {
		c.fol.Stop()
	}
	if c.subC != nil {
		c.subC.Close()
	}
	if c.pub != nil {
		c.pub.Stop()
	}
	if c.pubC != nil {
		c.pubC.Close()
	}
}

// clusterState is the /cluster answer.
type clusterState struct {
	Role      string             `json:"role"`
	URL       string             `json:"url"`
	Prefix    string             `json:"prefix"`
	Publisher *publisherState    `json:"publisher,omitempty"`
	Follower  *bus.FollowerStats `json:"follower,omitempty"`
}

type publisherState struct {
	Connected bool `json:"nats_connected"`
	bus.PublisherStats
}

func (c *cluster) state() clusterState {
	s := clusterState{Role: c.cfg.Role, URL: c.cfg.URL, Prefix: c.cfg.Prefix}
	if c.pub != nil {
		s.Publisher = &publisherState{Connected: c.pubC.IsConnected(), PublisherStats: c.pub.Stats()}
	}
	if c.fol != nil {
		fs := c.fol.Stats()
		s.Follower = &fs
	}
	return s
}

func (c *cluster) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(c.state())
}

// feedOfProducts maps every product a feed provides to the feed's name.
func (c config) feedOfProducts() map[string]string {
	out := map[string]string{}
	for _, f := range c.Feeds {
		for _, p := range c.feedProducts(f) {
			out[p.ID] = f.Name
		}
	}
	return out
}

// followedProducts lists what an edge follows: nats.products, or the catalog
// less what the node's own feeds provide.
func (c config) followedProducts() []string {
	if len(c.NATS.Products) > 0 {
		return c.NATS.Products
	}
	own := map[string]string{}
	if c.NATS.Ingests() {
		own = c.feedOfProducts()
	}
	var out []string
	for _, p := range c.Products {
		if _, ok := own[p.ID]; !ok {
			out = append(out, p.ID)
		}
	}
	return out
}

// servedProducts is the catalog fanout serves: an edge's followed products,
// everything otherwise.
func (c config) servedProducts() []model.Product {
	if c.NATS.Role != bus.RoleEdge || len(c.NATS.Products) == 0 {
		return c.Products
	}
	want := map[string]bool{}
	for _, id := range c.NATS.Products {
		want[id] = true
	}
	var out []model.Product
	for _, p := range c.Products {
		if want[p.ID] {
			out = append(out, p)
		}
	}
	return out
}

// validateNATS checks the nats section against the catalog (known ids) and
// the feeds. It runs on the config as decoded, before withDefaults.
func (c config) validateNATS(known map[string]bool) error {
	errs := []error{yamlconf.Prefix("nats", c.NATS.Validate())}
	own := c.ownProducts(known)
	for i, id := range c.NATS.Products {
		field := fmt.Sprintf("nats.products[%d]", i)
		switch {
		case !known[id]:
			errs = append(errs, yamlconf.Errorf(field, "%s is not in the products list", id))
		case own[id] != "":
			errs = append(errs, yamlconf.Errorf(field, "%s comes from feed %s of this node; follow only other nodes' products", id, own[id]))
		}
	}
	if len(c.NATS.Products) > 0 && !c.NATS.Follows() {
		errs = append(errs, yamlconf.Errorf("nats.products", "only an edge (role edge or both) follows products"))
	}
	if c.NATS.Role == bus.RoleBoth && len(c.NATS.Products) == 0 && len(own) >= len(known) {
		errs = append(errs, yamlconf.Errorf("nats.role", "both: every product comes from this node's feeds; nothing is left to follow (use ingest)"))
	}
	return errors.Join(errs...)
}

// ownProducts maps the known products the node's feeds provide, when it
// ingests, to the feed's name; a node without feeds gets the default one.
func (c config) ownProducts(known map[string]bool) map[string]string {
	own := map[string]string{}
	if !c.NATS.Ingests() {
		return own
	}
	feeds := c.Feeds
	if len(feeds) == 0 {
		feeds = []feedConfig{{}}
	}
	for _, f := range feeds {
		ids := f.Products
		if len(ids) == 0 {
			for id := range known {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			own[id] = f.WithDefaults().Name
		}
	}
	return own
}
