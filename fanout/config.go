package fanout

import (
	"errors"
	"runtime"
	"strings"
	"time"

	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Config tunes the WebSocket server. Its zero value is a working default: New
// fills every zero field with the default its comment states.
type Config struct {
	// Listen is the TCP address to serve WebSocket, REST and the dashboard on.
	// Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`
	// MaxConnections caps open connections, WebSocket and plain HTTP (REST,
	// /healthz, the dashboard) alike; past it an upgrade or a request gets
	// HTTP 503. Lowered at start, with a warning, to fit the open-file limit
	// (RLIMIT_NOFILE minus max_handshakes minus 128). Default 18000.
	MaxConnections int `yaml:"max_connections"`
	// MaxHandshakes caps connections whose request head is not read yet;
	// when all are taken, accept closes the stalest (part of a head sent
	// 100ms ago, or nothing for 1s) instead of waiting. Default 512.
	MaxHandshakes int `yaml:"max_handshakes"`
	// MaxConnectionsPerIP caps one client address's open connections,
	// handshakes included. Default 0: no cap (behind a TLS proxy every
	// client has the proxy's address; set it when clients connect directly).
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// MaxHandshakesPerIP caps one address's handshakes in progress. Default
	// 0: no cap.
	MaxHandshakesPerIP int `yaml:"max_handshakes_per_ip"`
	// MaxHandshakesPerIPPerSecond caps one address's new connections per
	// second (burst: one second's worth). Default 0: no cap.
	MaxHandshakesPerIPPerSecond float64 `yaml:"max_handshakes_per_ip_per_second"`
	// HeadTimeout bounds reading an HTTP request head: the first request's
	// and each kept-alive one's. At most handshake_timeout. Default 2s.
	HeadTimeout time.Duration `yaml:"head_timeout"`
	// HandshakeTimeout bounds the whole WebSocket handshake. Default 5s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// HTTPIdleTimeout closes a kept-alive REST connection idle this long.
	// Default 5s.
	HTTPIdleTimeout time.Duration `yaml:"http_idle_timeout"`
	// FrameTimeout closes (1008) a connection holding an incomplete frame
	// this long. Default 5s.
	FrameTimeout time.Duration `yaml:"frame_timeout"`
	// SubscribeTimeout closes a connection that has not subscribed to anything
	// this long after connecting, like the anchor. Default 5s; negative disables.
	SubscribeTimeout time.Duration `yaml:"subscribe_timeout"`
	// PingInterval is how long a connection may stay silent before the server
	// pings it. Default 30s.
	PingInterval time.Duration `yaml:"ping_interval"`
	// PongTimeout is how long after a ping a silent connection is closed.
	// Default 10s.
	PongTimeout time.Duration `yaml:"pong_timeout"`
	// WriteTimeout closes a subscriber that accepts no byte for this long while
	// data waits for it ("slow consumer"). Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// MaxMessageBytes is the largest client message accepted; a larger frame
	// closes the connection with 1009. Default 65536.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// MaxQueueBytes bounds a subscriber's outbound queue; past it level2 and
	// ticker frames are conflated (see PROTOCOL.md, slow consumers). Default 1 MiB.
	MaxQueueBytes int `yaml:"max_queue_bytes"`
	// MaxReplyQueueBytes bounds a connection's queued frames that are never
	// dropped (replies, errors, matches, heartbeats, pings); past it the
	// connection is closed as a slow consumer. Default 256 KiB.
	MaxReplyQueueBytes int `yaml:"max_reply_queue_bytes"`
	// MaxTotalQueueBytes is the budget for all connections' queued bytes
	// together; past it the connections with the largest queues are closed
	// with 1008 "server overloaded" until the total is under 90% of it.
	// Default 512 MiB.
	MaxTotalQueueBytes int64 `yaml:"max_total_queue_bytes"`
	// SnapshotBytesPerSecond and SnapshotBurstBytes weigh fresh state
	// (snapshots on subscribe and after conflation, the newest ticker) by its
	// size, per connection: a token bucket in bytes. When it is empty the
	// stream waits, its updates held back as for a slow consumer, and its
	// snapshot goes out once the bucket has refilled; so
	// subscribe/unsubscribe churn makes the server write at most this much
	// per connection. A snapshot larger than the burst still goes out.
	// Defaults 65536 (64 KiB/s) and 4194304 (4 MiB); a negative rate disables.
	SnapshotBytesPerSecond int `yaml:"snapshot_bytes_per_second"`
	SnapshotBurstBytes     int `yaml:"snapshot_burst_bytes"`
	// MaxQueueDelay bounds how far behind a subscriber may fall: when the
	// oldest queued frame has waited longer, queued level2 and ticker frames
	// are conflated as for max_queue_bytes. Default 2s; negative disables.
	MaxQueueDelay time.Duration `yaml:"max_queue_delay"`
	// KernelUnsentBytes caps the bytes the kernel holds for a subscriber that
	// are not yet sent (TCP_NOTSENT_LOWAT). Past it writes wait, so a slow
	// subscriber's backlog stays in tickerfan's queue, where max_queue_bytes
	// and max_queue_delay conflate it, instead of in a socket buffer the
	// kernel grows to megabytes. Default 16384; negative leaves the kernel's.
	KernelUnsentBytes int `yaml:"kernel_unsent_bytes"`
	// SendBufferBytes sets each subscriber socket's kernel send buffer
	// (SO_SNDBUF). Smaller bounds kernel memory per subscriber and makes
	// slow-consumer conflation start sooner. Default 0: kernel autotuning.
	SendBufferBytes int `yaml:"send_buffer_bytes"`
	// MessagesPerSecond and MessageBurst bound what a client may send (a token
	// bucket over all frames, pings included); past it the connection is closed
	// with 1008. Defaults 20 and 100.
	MessagesPerSecond float64 `yaml:"messages_per_second"`
	MessageBurst      int     `yaml:"message_burst"`
	// Workers is the size of the pool that does socket reads and writes.
	// Default 4 x GOMAXPROCS.
	Workers int `yaml:"workers"`
	// Shards is the number of fan-out goroutines; products are spread over them.
	// Default GOMAXPROCS.
	Shards int `yaml:"shards"`
	// BatchInterval is the level2_batch coalescing window. Default 50ms.
	BatchInterval time.Duration `yaml:"batch_interval"`
	// TickerBatchInterval is the ticker_batch period. Default 5s.
	TickerBatchInterval time.Duration `yaml:"ticker_batch_interval"`
	// StatusInterval is how often status subscribers get the product list.
	// Default 10s.
	StatusInterval time.Duration `yaml:"status_interval"`
	// TradesKept is how many recent trades per product /products/{id}/trades
	// serves. Default 1000.
	TradesKept int `yaml:"trades_kept"`
	// ResumeHistory is how many updates of each level2 stream are kept for
	// the resume extension (a subscribe naming the last sequence seen gets
	// what it missed instead of a snapshot). Default 1000; negative disables.
	ResumeHistory int `yaml:"resume_history"`
	// AllowedOrigins lists the origins whose pages may open the feed
	// (WebSocket upgrades and /sse): exact origins like
	// "https://example.com" and patterns like "*.example.com" (any scheme)
	// or "https://*.example.com". Another Origin gets HTTP 403; a request
	// without Origin (not from a browser page) is allowed. Default empty:
	// every origin, as before.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// Auth verifies signed subscribes; see AuthConfig. Default off.
	Auth AuthConfig `yaml:"auth"`
	// ShutdownTimeout bounds the graceful close of all connections. Default 5s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	procs := runtime.GOMAXPROCS(0)
	setDefault(&c.Listen, "127.0.0.1:8080")
	setDefault(&c.MaxConnections, 18000)
	setDefault(&c.MaxHandshakes, 512)
	setDefault(&c.HandshakeTimeout, 5*time.Second)
	setDefault(&c.HeadTimeout, min(2*time.Second, c.HandshakeTimeout))
	setDefault(&c.HTTPIdleTimeout, 5*time.Second)
	setDefault(&c.FrameTimeout, 5*time.Second)
	setDefault(&c.MaxReplyQueueBytes, 256<<10)
	setDefault(&c.MaxTotalQueueBytes, 512<<20)
	setDefault(&c.SnapshotBytesPerSecond, 64<<10)
	setDefault(&c.SnapshotBurstBytes, 4<<20)
	setDefault(&c.SubscribeTimeout, 5*time.Second)
	setDefault(&c.PingInterval, 30*time.Second)
	setDefault(&c.PongTimeout, 10*time.Second)
	setDefault(&c.WriteTimeout, 10*time.Second)
	setDefault(&c.MaxMessageBytes, 64<<10)
	setDefault(&c.MaxQueueBytes, 1<<20)
	setDefault(&c.MaxQueueDelay, 2*time.Second)
	setDefault(&c.KernelUnsentBytes, 16<<10)
	setDefault(&c.MessagesPerSecond, 20)
	setDefault(&c.MessageBurst, 100)
	setDefault(&c.Workers, 4*procs)
	setDefault(&c.Shards, procs)
	setDefault(&c.BatchInterval, 50*time.Millisecond)
	setDefault(&c.TickerBatchInterval, 5*time.Second)
	setDefault(&c.StatusInterval, 10*time.Second)
	setDefault(&c.TradesKept, 1000)
	setDefault(&c.ResumeHistory, 1000)
	setDefault(&c.ShutdownTimeout, 5*time.Second)
	return c
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Validate reports every field with a value the server cannot run with. Zero
// values are fine: they mean "default".
func (c Config) Validate() error {
	var errs []error
	nonNegative := func(field string, v int) {
		if v < 0 {
			errs = append(errs, yamlconf.Errorf(field, "must be >= 0 (got %d); 0 means the default", v))
		}
	}
	positiveDur := func(field string, d time.Duration) {
		if d < 0 {
			errs = append(errs, yamlconf.Errorf(field, "must be a positive duration like 5s (got %s); 0 means the default", d))
		}
	}
	nonNegative("max_connections", c.MaxConnections)
	nonNegative("max_handshakes", c.MaxHandshakes)
	nonNegative("max_queue_bytes", c.MaxQueueBytes)
	nonNegative("max_connections_per_ip", c.MaxConnectionsPerIP)
	nonNegative("max_handshakes_per_ip", c.MaxHandshakesPerIP)
	nonNegative("max_reply_queue_bytes", c.MaxReplyQueueBytes)
	nonNegative("snapshot_burst_bytes", c.SnapshotBurstBytes)
	if c.MaxTotalQueueBytes < 0 {
		errs = append(errs, yamlconf.Errorf("max_total_queue_bytes", "must be >= 0 (got %d); 0 means the default", c.MaxTotalQueueBytes))
	}
	if c.MaxHandshakesPerIPPerSecond < 0 {
		errs = append(errs, yamlconf.Errorf("max_handshakes_per_ip_per_second", "must be >= 0 (got %g); 0 means no cap", c.MaxHandshakesPerIPPerSecond))
	}
	if c.HeadTimeout > 0 && c.HeadTimeout > c.withDefaults().HandshakeTimeout {
		errs = append(errs, yamlconf.Errorf("head_timeout", "must be at most handshake_timeout (got %s)", c.HeadTimeout))
	}
	if c.MaxReplyQueueBytes > 0 && c.MaxReplyQueueBytes < 4096 {
		errs = append(errs, yamlconf.Errorf("max_reply_queue_bytes", "must be >= 4096 so an error reply fits (got %d)", c.MaxReplyQueueBytes))
	}
	nonNegative("message_burst", c.MessageBurst)
	nonNegative("send_buffer_bytes", c.SendBufferBytes)
	nonNegative("workers", c.Workers)
	nonNegative("shards", c.Shards)
	nonNegative("trades_kept", c.TradesKept)
	positiveDur("handshake_timeout", c.HandshakeTimeout)
	positiveDur("head_timeout", c.HeadTimeout)
	positiveDur("http_idle_timeout", c.HTTPIdleTimeout)
	positiveDur("frame_timeout", c.FrameTimeout)
	positiveDur("ping_interval", c.PingInterval)
	positiveDur("pong_timeout", c.PongTimeout)
	positiveDur("write_timeout", c.WriteTimeout)
	positiveDur("batch_interval", c.BatchInterval)
	positiveDur("ticker_batch_interval", c.TickerBatchInterval)
	positiveDur("status_interval", c.StatusInterval)
	positiveDur("shutdown_timeout", c.ShutdownTimeout)
	if c.MaxMessageBytes < 0 || (c.MaxMessageBytes > 0 && c.MaxMessageBytes < 1024) {
		errs = append(errs, yamlconf.Errorf("max_message_bytes", "must be >= 1024 (got %d); 0 means 65536", c.MaxMessageBytes))
	}
	if c.MessagesPerSecond < 0 {
		errs = append(errs, yamlconf.Errorf("messages_per_second", "must be > 0 (got %g)", c.MessagesPerSecond))
	}
	if c.MaxQueueBytes > 0 && c.MaxQueueBytes < 64<<10 {
		errs = append(errs, yamlconf.Errorf("max_queue_bytes", "must be >= 65536 so a snapshot fits (got %d)", c.MaxQueueBytes))
	}
	if err := (transport.Config{AllowedOrigins: c.AllowedOrigins}).Validate(); err != nil {
		errs = append(errs, yamlconf.Errorf("allowed_origins", "%s", strings.TrimPrefix(err.Error(), "transport: AllowedOrigins: ")))
	}
	errs = append(errs, yamlconf.Prefix("auth", c.Auth.Validate()))
	return errors.Join(errs...)
}
