package fanout

import (
	"strings"
	"testing"
	"time"
)

// The limits of issue 9 are validated with the YAML name of the field.
func TestValidateLimits(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{HeadTimeout: 10 * time.Second}, "head_timeout: must be at most handshake_timeout"},
		{Config{HeadTimeout: 3 * time.Second, HandshakeTimeout: 2 * time.Second}, "head_timeout: must be at most handshake_timeout"},
		{Config{MaxTotalQueueBytes: -1}, "max_total_queue_bytes: must be >= 0"},
		{Config{MaxReplyQueueBytes: 100}, "max_reply_queue_bytes: must be >= 4096"},
		{Config{MaxConnectionsPerIP: -1}, "max_connections_per_ip: must be >= 0"},
		{Config{MaxHandshakesPerIP: -1}, "max_handshakes_per_ip: must be >= 0"},
		{Config{MaxHandshakesPerIPPerSecond: -2}, "max_handshakes_per_ip_per_second: must be >= 0"},
		{Config{FrameTimeout: -time.Second}, "frame_timeout: must be a positive duration"},
		{Config{HTTPIdleTimeout: -time.Second}, "http_idle_timeout: must be a positive duration"},
		{Config{SnapshotBurstBytes: -1}, "snapshot_burst_bytes: must be >= 0"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.cfg, err, tc.want)
		}
	}
	d := Config{}.withDefaults()
	if d.HeadTimeout != 2*time.Second || d.MaxTotalQueueBytes != 512<<20 || d.MaxReplyQueueBytes != 256<<10 ||
		d.SnapshotBytesPerSecond != 64<<10 || d.FrameTimeout != 5*time.Second || d.HTTPIdleTimeout != 5*time.Second {
		t.Fatalf("defaults %+v", d)
	}
	if err := (Config{HandshakeTimeout: time.Second}).Validate(); err != nil {
		t.Fatalf("a 1s handshake_timeout (head_timeout defaults to it): %v", err)
	}
}
