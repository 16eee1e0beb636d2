package coinbase

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// The Coinbase Exchange channels a coinbase feed can subscribe to.
const (
	ChannelLevel2      = "level2"
	ChannelLevel2Batch = "level2_batch"
	ChannelTicker      = "ticker"
	ChannelMatches     = "matches"
	ChannelHeartbeat   = "heartbeat"
	// ChannelStatus carries the upstream's product states: a relay that
	// subscribes it takes its products offline when the upstream does.
	ChannelStatus = "status"
)

// DefaultURL is the public Coinbase Exchange market-data feed.
const DefaultURL = "wss://ws-feed.exchange.coinbase.com"

// Config configures a feed of kind coinbase: a WebSocket upstream
// speaking the Coinbase Exchange feed protocol, the exchange itself or
// another tickerfan. Its zero value is a working default.
type Config struct {
	// URL is the upstream, ws:// or wss://. Default DefaultURL; point
	// it at another tickerfan (ws://host:8080/) to relay.
	URL string `yaml:"url"`
	// Channels to subscribe for every product: level2 or level2_batch (not
	// both), ticker, matches, heartbeat, status. Default [level2_batch,
	// ticker, matches, heartbeat] (the public exchange wants credentials for
	// level2). Add status on a relay of another tickerfan, so its products go
	// offline when the upstream's do.
	Channels []string `yaml:"channels"`
	// UpstreamIDs maps a catalog product id to the upstream's id for it, when
	// they differ. Default: the same id.
	UpstreamIDs map[string]string `yaml:"upstream_ids"`
	// Credentials sign the subscribe message. Default: none.
	Credentials Credentials `yaml:"credentials"`
	// StaleTimeout drops a connection that receives nothing, not even a
	// heartbeat, for this long. Default 10s.
	StaleTimeout time.Duration `yaml:"stale_timeout"`
	// ResyncTimeout drops a connection on which a book waits longer than this
	// for its snapshot (after connecting or a resync request). Default 15s.
	ResyncTimeout time.Duration `yaml:"resync_timeout"`
	// HandshakeTimeout bounds the TCP, TLS and WebSocket handshakes. Default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// BackoffMin is the first reconnect delay; it doubles on each failed
	// attempt up to BackoffMax, jittered. Default 500ms.
	BackoffMin time.Duration `yaml:"backoff_min"`
	// BackoffMax caps the reconnect delay. Default 30s.
	BackoffMax time.Duration `yaml:"backoff_max"`
	// MaxMessageBytes bounds one upstream message; a larger one is refused
	// from its frame header, before any of it is read or decoded, counted as
	// malformed too_big, and the connection dropped. Default 16 MiB: a full
	// level2 snapshot of a busy market is a few MB, and a refused snapshot
	// would keep the feed from ever going live, so the margin is 4x; at the
	// measured decode rate (23 MB/s, BenchmarkNormalize/snapshot) 16 MiB costs
	// at most 0.7 s of a core where the former 64 MiB cost 3 s.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// IgnoreTradeGaps turns off gap detection by trade id on matches: set it
	// when the upstream skips trade ids, as a relay whose own upstream sends
	// only ticker does. Default false.
	IgnoreTradeGaps bool `yaml:"ignore_trade_gaps"`
	// Record, when set, writes every upstream message with its receive time
	// to this file (JSON lines, gzip when it ends in .gz), for replay.
	// Default: no recording.
	Record string `yaml:"record"`
}

// The defaults and limits of Config, documented on its fields.
const (
	defaultStaleTimeout     = 10 * time.Second
	defaultResyncTimeout    = 15 * time.Second
	defaultHandshakeTimeout = 10 * time.Second
	defaultBackoffMin       = 500 * time.Millisecond
	defaultBackoffMax       = 30 * time.Second
	defaultMaxMessageBytes  = 16 << 20

	minFeedTimeout = 10 * time.Millisecond
	maxFeedTimeout = time.Hour
)

// DefaultChannels are the channels a coinbase feed subscribes by default.
var DefaultChannels = []string{ChannelLevel2Batch, ChannelTicker, ChannelMatches, ChannelHeartbeat}

var knownChannels = []string{ChannelLevel2, ChannelLevel2Batch, ChannelTicker, ChannelMatches, ChannelHeartbeat, ChannelStatus}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if len(c.Channels) == 0 {
		c.Channels = slices.Clone(DefaultChannels)
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&c.StaleTimeout, defaultStaleTimeout)
	set(&c.ResyncTimeout, defaultResyncTimeout)
	set(&c.HandshakeTimeout, defaultHandshakeTimeout)
	set(&c.BackoffMin, defaultBackoffMin)
	set(&c.BackoffMax, defaultBackoffMax)
	if c.BackoffMax < c.BackoffMin {
		c.BackoffMax = c.BackoffMin
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = defaultMaxMessageBytes
	}
	return c
}

// Validate reports every bad field at once, as yamlconf field errors. Zero
// fields are valid (they take their defaults).
func (c Config) Validate() error {
	var errs []error
	if c.URL != "" {
		errs = append(errs, validateURL(c.URL))
	}
	errs = append(errs, validateChannels(c.Channels))
	for _, id := range slices.Sorted(maps.Keys(c.UpstreamIDs)) {
		if id == "" || c.UpstreamIDs[id] == "" {
			errs = append(errs, yamlconf.Errorf("upstream_ids", "ids must not be empty (got %q: %q)", id, c.UpstreamIDs[id]))
		}
	}
	errs = append(errs, yamlconf.Prefix("credentials", c.Credentials.Validate()))
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"stale_timeout", c.StaleTimeout}, {"resync_timeout", c.ResyncTimeout},
		{"handshake_timeout", c.HandshakeTimeout}, {"backoff_min", c.BackoffMin}, {"backoff_max", c.BackoffMax},
	} {
		if d.v != 0 && (d.v < minFeedTimeout || d.v > maxFeedTimeout) {
			errs = append(errs, yamlconf.Errorf(d.name, "must be between %v and %v, got %v", minFeedTimeout, maxFeedTimeout, d.v))
		}
	}
	if c.BackoffMin != 0 && c.BackoffMax != 0 && c.BackoffMax < c.BackoffMin {
		errs = append(errs, yamlconf.Errorf("backoff_max", "must be >= backoff_min (%v), got %v", c.BackoffMin, c.BackoffMax))
	}
	if c.MaxMessageBytes < 0 || (c.MaxMessageBytes > 0 && c.MaxMessageBytes < 1024) {
		errs = append(errs, yamlconf.Errorf("max_message_bytes", "must be at least 1024, got %d; 0 means the default", c.MaxMessageBytes))
	}
	return errors.Join(errs...)
}

func validateURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return yamlconf.Errorf("url", "%v", err)
	case u.Scheme != "ws" && u.Scheme != "wss":
		return yamlconf.Errorf("url", "must be ws:// or wss:// (got %q)", s)
	case u.Host == "":
		return yamlconf.Errorf("url", "has no host (got %q)", s)
	}
	return nil
}

func validateChannels(chs []string) error {
	var errs []error
	seen := map[string]bool{}
	for i, ch := range chs {
		field := fmt.Sprintf("channels[%d]", i)
		switch {
		case !slices.Contains(knownChannels, ch):
			errs = append(errs, yamlconf.Errorf(field, "unknown channel %q; use %s", ch, strings.Join(knownChannels, ", ")))
		case seen[ch]:
			errs = append(errs, yamlconf.Errorf(field, "%s is listed twice", ch))
		}
		seen[ch] = true
	}
	if seen[ChannelLevel2] && seen[ChannelLevel2Batch] {
		errs = append(errs, yamlconf.Errorf("channels", "subscribe level2 or level2_batch, not both: they carry the same book"))
	}
	return errors.Join(errs...)
}

// upstreamID returns the upstream's id for catalog product id.
func (c Config) upstreamID(id string) string {
	if up, ok := c.UpstreamIDs[id]; ok {
		return up
	}
	return id
}
