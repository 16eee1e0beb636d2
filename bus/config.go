package bus

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// The roles of a node.
const (
	// RoleSingle runs feeds, books and fan-out in one process, without NATS.
	RoleSingle = "single"
	// RoleIngest runs feeds and books, serves them itself and publishes them.
	RoleIngest = "ingest"
	// RoleEdge runs no feed: it follows NATS for its products and serves them.
	RoleEdge = "edge"
	// RoleBoth publishes its own feeds and follows NATS for the other products.
	RoleBoth = "both"
)

// Config is the `nats:` section: the node's role and how it uses NATS. Its
// zero value is a single node; New* fill every other zero field with the
// default its comment states.
type Config struct {
	// Role is single, ingest, edge or both. Default single.
	Role string `yaml:"role"`
	// URL of the NATS server(s), comma-separated. Default nats://127.0.0.1:4222.
	URL string `yaml:"url"`
	// Prefix of every subject. Default "tickerfan.v1".
	Prefix string `yaml:"prefix"`
	// IngestID names an ingest among those of the same feed; edges follow
	// the lowest live one. Default the host name and process id.
	IngestID string `yaml:"ingest_id"`
	// Products an edge follows. Default every product of the catalog (for
	// both: every product none of its feeds provides).
	Products []string `yaml:"products"`
	// HeartbeatInterval is how often an ingest publishes its Beat. Default 250ms.
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	// IngestTimeout is how long an edge waits for a Beat before it deems the
	// ingest gone and fails over. Default 2s.
	IngestTimeout time.Duration `yaml:"ingest_timeout"`
	// SnapshotTimeout is how long an edge waits for a snapshot reply before it
	// asks again. Default 500ms.
	SnapshotTimeout time.Duration `yaml:"snapshot_timeout"`
	// StaleTimeout is how long an edge may stay behind the Seq a Beat
	// announced, receiving nothing of the product, before it recovers the
	// product (its stream's tail was lost). Default 750ms.
	StaleTimeout time.Duration `yaml:"stale_timeout"`
	// PendingMessages bounds the events an edge holds unprocessed; past it NATS
	// drops them (slow consumer) and the edge recovers. Default 65536.
	PendingMessages int `yaml:"pending_messages"`
}

// Validate checks the role and that durations and limits are not negative.
func (c Config) Validate() error {
	var errs []error
	switch c.Role {
	case "", RoleSingle, RoleIngest, RoleEdge, RoleBoth:
	default:
		errs = append(errs, yamlconf.Errorf("role", "must be single, ingest, edge or both (got %q)", c.Role))
	}
	if c.Prefix != "" && !validPrefix(c.Prefix) {
		errs = append(errs, yamlconf.Errorf("prefix", "must be dot-separated tokens of letters, digits, - and _ (got %q)", c.Prefix))
	}
	if c.URL != "" && !strings.Contains(c.URL, "://") {
		errs = append(errs, yamlconf.Errorf("url", "must be a URL like nats://127.0.0.1:4222 (got %q)", c.URL))
	}
	for name, d := range map[string]time.Duration{"heartbeat_interval": c.HeartbeatInterval,
		"ingest_timeout": c.IngestTimeout, "snapshot_timeout": c.SnapshotTimeout, "stale_timeout": c.StaleTimeout} {
		if d < 0 {
			errs = append(errs, yamlconf.Errorf(name, "must be >= 0 (got %s); 0 means the default", d))
		}
	}
	if c.PendingMessages < 0 {
		errs = append(errs, yamlconf.Errorf("pending_messages", "must be >= 0 (got %d); 0 means the default", c.PendingMessages))
	}
	if c.HeartbeatInterval > 0 && c.IngestTimeout > 0 && c.IngestTimeout <= 2*c.HeartbeatInterval {
		errs = append(errs, yamlconf.Errorf("ingest_timeout", "must exceed twice heartbeat_interval (%s), or edges fail over from live ingests", c.HeartbeatInterval))
	}
	return errors.Join(errs...)
}

func validPrefix(p string) bool {
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || Token(tok) != tok {
			return false
		}
	}
	return true
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Role == "" {
		c.Role = RoleSingle
	}
	if c.URL == "" {
		c.URL = "nats://127.0.0.1:4222"
	}
	if c.Prefix == "" {
		c.Prefix = "tickerfan.v1"
	}
	if c.IngestID == "" {
		host, _ := os.Hostname()
		c.IngestID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = 250 * time.Millisecond
	}
	if c.IngestTimeout == 0 {
		c.IngestTimeout = 2 * time.Second
	}
	if c.SnapshotTimeout == 0 {
		c.SnapshotTimeout = 500 * time.Millisecond
	}
	if c.StaleTimeout == 0 {
		c.StaleTimeout = 750 * time.Millisecond
	}
	if c.PendingMessages == 0 {
		c.PendingMessages = 65536
	}
	return c
}

// Ingests reports whether the role runs feeds and publishes them.
func (c Config) Ingests() bool { return c.Role == RoleIngest || c.Role == RoleBoth }

// Follows reports whether the role follows NATS.
func (c Config) Follows() bool { return c.Role == RoleEdge || c.Role == RoleBoth }
