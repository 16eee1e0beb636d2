package bus

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickerfan/tickerfan/book"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{}, ""},
		{Config{Role: RoleEdge, URL: "nats://10.0.0.1:4222,nats://10.0.0.2:4222", Prefix: "md.v1"}, ""},
		{Config{Role: "relay"}, `role: must be single, ingest, edge or both (got "relay")`},
		{Config{Prefix: "a.*"}, `prefix: must be dot-separated tokens`},
		{Config{Prefix: "a..b"}, `prefix: must be dot-separated tokens`},
		{Config{URL: "127.0.0.1:4222"}, `url: must be a URL`},
		{Config{SnapshotTimeout: -time.Second}, `snapshot_timeout: must be >= 0 (got -1s)`},
		{Config{PendingMessages: -1}, `pending_messages: must be >= 0 (got -1)`},
		{Config{HeartbeatInterval: time.Second, IngestTimeout: 2 * time.Second}, `ingest_timeout: must exceed twice heartbeat_interval`},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: Validate = %v, want %q", c.cfg, err, c.want)
		}
	}
	d := Config{}.WithDefaults()
	if d.Role != RoleSingle || d.Prefix != "tickerfan.v1" || d.IngestID == "" || d.IngestTimeout != 2*time.Second ||
		d.HeartbeatInterval != 250*time.Millisecond || d.PendingMessages != 65536 {
		t.Errorf("defaults = %+v", d)
	}
}

func TestNewRefusesMissingParts(t *testing.T) {
	if _, err := NewPublisher(nil, Config{}, nil, nil); !errors.Is(err, ErrNoConn) {
		t.Errorf("NewPublisher(nil conn) = %v", err)
	}
	if _, err := NewFollower(nil, Config{}, []string{"BTC-USD"}, func(book.Event) {}, nil); !errors.Is(err, ErrNoConn) {
		t.Errorf("NewFollower(nil conn) = %v", err)
	}
	nc := &nats.Conn{} // never used: the checks come first
	if _, err := NewFollower(nc, Config{}, nil, func(book.Event) {}, nil); !errors.Is(err, ErrNoProducts) {
		t.Errorf("NewFollower(no products) = %v", err)
	}
	if _, err := NewFollower(nc, Config{}, []string{"BTC-USD"}, nil, nil); !errors.Is(err, ErrNoPublish) {
		t.Errorf("NewFollower(no publish) = %v", err)
	}
}
