package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Config says where to connect and how. Its zero value, given a URL, is a
// working default: Dial fills every zero field with the default its comment
// states.
type Config struct {
	// URL is the feed, ws://HOST:PORT/ or wss://HOST/. Required.
	URL string
	// TLS configures wss:// connections (e.g. RootCAs to trust a private
	// CA). Default: the system roots.
	TLS *tls.Config
	// Checksum asks the server for the checksum extension and verifies every
	// snapshot and l2update against the book. Default false.
	Checksum bool
	// NoResume turns off the resume extension: after a reconnect every book
	// starts again from a fresh snapshot. Default false (resume).
	NoResume bool
	// BackoffMin and BackoffMax bound the delay between reconnect attempts:
	// it doubles from BackoffMin up to BackoffMax, half of it random.
	// Defaults 500ms and 10s.
	BackoffMin, BackoffMax time.Duration
	// DialTimeout bounds one connection attempt, TCP, TLS and WebSocket
	// handshake together. Default 10s.
	DialTimeout time.Duration
	// PingInterval is how often the client pings the server; a connection
	// that delivers nothing, not even a pong, for twice this long is
	// dropped and redialled. Default 10s.
	PingInterval time.Duration
	// Buffer is the capacity of the Messages channel. When it is full the
	// client stops reading, and the server conflates level2 and ticker (a
	// fresh snapshot follows). Default 1024.
	Buffer int
}

func (c Config) withDefaults() Config {
	setDefault(&c.BackoffMin, 500*time.Millisecond)
	setDefault(&c.BackoffMax, 10*time.Second)
	setDefault(&c.DialTimeout, 10*time.Second)
	setDefault(&c.PingInterval, 10*time.Second)
	if c.Buffer == 0 {
		c.Buffer = 1024
	}
	return c
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// Validate reports every bad field at once, each error naming the field and
// its value.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		errs = append(errs, fmt.Errorf("client: URL: want ws://HOST:PORT/ or wss://HOST/ (got %q)", c.URL))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"BackoffMin", c.BackoffMin}, {"BackoffMax", c.BackoffMax}, {"DialTimeout", c.DialTimeout}, {"PingInterval", c.PingInterval}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("client: %s: must be >= 0 (got %s); 0 means the default", d.name, d.v))
		}
	}
	if c.BackoffMin > 0 && c.BackoffMax > 0 && c.BackoffMin > c.BackoffMax {
		errs = append(errs, fmt.Errorf("client: BackoffMin %s is above BackoffMax %s", c.BackoffMin, c.BackoffMax))
	}
	if c.Buffer < 0 {
		errs = append(errs, fmt.Errorf("client: Buffer: must be >= 0 (got %d)", c.Buffer))
	}
	return errors.Join(errs...)
}
