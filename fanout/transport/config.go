package transport

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Config tunes the transport. Its zero value is a working default: New fills
// every zero field with the default its comment states. The protocol maps
// its own (YAML) configuration onto it.
type Config struct {
	// Paths are the request paths that may upgrade. Default ["/"].
	Paths []string
	// MaxConnections caps open connections, WebSocket and plain HTTP alike;
	// past it an upgrade or a request gets HTTP 503. New lowers it to fit
	// the open-file limit (RLIMIT_NOFILE minus max_handshakes and a reserve
	// of 128). Default 18000.
	MaxConnections int
	// MaxHandshakes caps connections whose request head is not read yet.
	// When all are taken, accept closes the stalest one waiting for its head
	// (part of a head sent 100ms ago, or nothing for 1s) rather than wait. Default 512.
	MaxHandshakes int
	// MaxConnectionsPerIP caps the open connections of one client address,
	// handshakes included. Default 0: no cap (behind a proxy every client
	// has the proxy's address).
	MaxConnectionsPerIP int
	// MaxHandshakesPerIP caps one address's handshakes in progress. Default
	// 0: no cap.
	MaxHandshakesPerIP int
	// HandshakesPerIPPerSecond caps the new connections of one address per
	// second (a token bucket, burst one second's worth). Default 0: no cap.
	HandshakesPerIPPerSecond float64
	// HeadTimeout bounds reading an HTTP request head, the first request's
	// and every kept-alive one's; at most HandshakeTimeout. Default 2s.
	HeadTimeout time.Duration
	// HandshakeTimeout bounds the whole handshake: the head, then the
	// upgrade's answer. Default 5s.
	HandshakeTimeout time.Duration
	// HTTPIdleTimeout closes a kept-alive plain HTTP connection that sends no
	// new request for this long. Default 5s.
	HTTPIdleTimeout time.Duration
	// FrameTimeout closes, with 1008, a connection that has held an
	// incomplete frame this long. Default 5s.
	FrameTimeout time.Duration
	// ReadyTimeout closes, with ReadyError, a connection its protocol has not
	// called Ready on this long after connecting. Default 0: never.
	ReadyTimeout time.Duration
	// ReadyError is the close code and reason for ReadyTimeout. Default
	// 1008 "not ready in time".
	ReadyError *CloseError
	// PingInterval is how long a connection may stay silent before it is
	// pinged. Default 30s.
	PingInterval time.Duration
	// PongTimeout is how long after a ping a silent connection is closed.
	// Default 10s.
	PongTimeout time.Duration
	// WriteTimeout closes a connection that accepts no byte for this long
	// while data waits for it. Default 10s.
	WriteTimeout time.Duration
	// MaxMessageBytes is the largest client message; a larger one closes the
	// connection with 1009. Default 65536.
	MaxMessageBytes int
	// MaxQueueBytes bounds a connection's outbound queue; past it Conflate
	// frames are dropped and their streams marked lagging. Default 1 MiB.
	MaxQueueBytes int
	// MaxReplyQueueBytes bounds the Keep and Control frames (replies,
	// errors, matches, pings) queued for one connection; they are never
	// dropped, so past it the connection is closed as a slow consumer.
	// Default 256 KiB.
	MaxReplyQueueBytes int
	// MaxTotalQueueBytes is the budget for every connection's queued bytes
	// together. When the total passes it, the sweeper closes the connections
	// with the largest queues, with 1008 "server overloaded", until it is
	// back under 90% of it. Default 512 MiB.
	MaxTotalQueueBytes int64
	// FreshStateBytesPerSecond and FreshStateBurstBytes weigh fresh state
	// (Restore of Conflate frames: snapshots on subscribe and after
	// conflation) by its size: a token bucket in bytes per connection. When
	// it is empty the stream stays lagging and its fresh state goes out once
	// the bucket has refilled, so subscribe/unsubscribe churn cannot make the
	// server write more than this per connection. A single state larger than
	// the burst still goes out (the bucket goes into debt). Defaults 64 KiB
	// per second and 4 MiB; a negative rate disables.
	FreshStateBytesPerSecond int
	FreshStateBurstBytes     int
	// MaxQueueDelay conflates the queue when its oldest frame has waited this
	// long. Default 2s; negative disables.
	MaxQueueDelay time.Duration
	// KernelUnsentBytes sets TCP_NOTSENT_LOWAT, so a backlog stays in the
	// queue, where it is conflated. Default 16384; negative leaves the kernel's.
	KernelUnsentBytes int
	// SendBufferBytes sets SO_SNDBUF. Default 0: kernel autotuning.
	SendBufferBytes int
	// MessagesPerSecond and MessageBurst bound what a client may send (a
	// token bucket over all frames); past it the connection is closed with
	// 1008. Defaults 20 and 100.
	MessagesPerSecond float64
	MessageBurst      int
	// Workers is the size of the pool that reads and writes sockets.
	// Default 4 x GOMAXPROCS.
	Workers int
	// AllowedOrigins lists the origins whose pages may open upgrades and
	// event streams: "https://example.com" (exact, port included), or
	// "*.example.com" / "https://*.example.com" (any subdomain). A request
	// with another Origin is refused with 403; one without Origin is
	// allowed. Default empty: every origin.
	AllowedOrigins []string
	// ShutdownTimeout bounds the graceful close of all connections. Default 5s.
	ShutdownTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if len(c.Paths) == 0 {
		c.Paths = []string{"/"}
	}
	def := func(field *int, v int) {
		if *field == 0 {
			*field = v
		}
	}
	defDur := func(field *time.Duration, v time.Duration) {
		if *field == 0 {
			*field = v
		}
	}
	def(&c.MaxConnections, 18000)
	def(&c.MaxHandshakes, 512)
	def(&c.MaxMessageBytes, 64<<10)
	def(&c.MaxQueueBytes, 1<<20)
	def(&c.MaxReplyQueueBytes, 256<<10)
	def(&c.FreshStateBytesPerSecond, 64<<10)
	def(&c.FreshStateBurstBytes, 4<<20)
	def(&c.KernelUnsentBytes, 16<<10)
	def(&c.MessageBurst, 100)
	def(&c.Workers, 4*runtime.GOMAXPROCS(0))
	defDur(&c.HandshakeTimeout, 5*time.Second)
	defDur(&c.HeadTimeout, min(2*time.Second, c.HandshakeTimeout))
	defDur(&c.HTTPIdleTimeout, 5*time.Second)
	defDur(&c.FrameTimeout, 5*time.Second)
	defDur(&c.PingInterval, 30*time.Second)
	defDur(&c.PongTimeout, 10*time.Second)
	defDur(&c.WriteTimeout, 10*time.Second)
	defDur(&c.MaxQueueDelay, 2*time.Second)
	defDur(&c.ShutdownTimeout, 5*time.Second)
	if c.MaxTotalQueueBytes == 0 {
		c.MaxTotalQueueBytes = 512 << 20
	}
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = 20
	}
	if c.ReadyError == nil {
		c.ReadyError = &CloseError{Code: 1008, Reason: "not ready in time"}
	}
	return c
}

// Validate reports every field the transport cannot run with; zero values
// mean the default. The protocol validates its YAML names before this.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxConnections", c.MaxConnections}, {"MaxHandshakes", c.MaxHandshakes}, {"MaxMessageBytes", c.MaxMessageBytes},
		{"MaxQueueBytes", c.MaxQueueBytes}, {"SendBufferBytes", c.SendBufferBytes}, {"MessageBurst", c.MessageBurst}, {"Workers", c.Workers},
		{"MaxConnectionsPerIP", c.MaxConnectionsPerIP}, {"MaxHandshakesPerIP", c.MaxHandshakesPerIP},
		{"MaxReplyQueueBytes", c.MaxReplyQueueBytes}, {"FreshStateBurstBytes", c.FreshStateBurstBytes},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("transport: %s must be >= 0 (got %d)", f.name, f.v))
		}
	}
	for _, p := range c.AllowedOrigins {
		if _, err := parseOriginPattern(p); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxTotalQueueBytes < 0 {
		errs = append(errs, fmt.Errorf("transport: MaxTotalQueueBytes must be >= 0 (got %d)", c.MaxTotalQueueBytes))
	}
	if c.HandshakesPerIPPerSecond < 0 {
		errs = append(errs, fmt.Errorf("transport: HandshakesPerIPPerSecond must be >= 0 (got %g)", c.HandshakesPerIPPerSecond))
	}
	if c.HeadTimeout > 0 && c.HandshakeTimeout > 0 && c.HeadTimeout > c.HandshakeTimeout {
		errs = append(errs, fmt.Errorf("transport: HeadTimeout (%s) must be at most HandshakeTimeout (%s)", c.HeadTimeout, c.HandshakeTimeout))
	}
	if c.MessagesPerSecond < 0 {
		errs = append(errs, fmt.Errorf("transport: MessagesPerSecond must be >= 0 (got %g)", c.MessagesPerSecond))
	}
	return errors.Join(errs...)
}
