//go:build soak

package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestSoak is the acceptance run: 2,000 subscribers (or
// TICKERBENCH_SOAK_CONNS) for 10 s against a local tickerfan, every update
// delivered, and the JSON result written. Run it with
//
//	go test -tags soak -run Soak -v ./bench/
func TestSoak(t *testing.T) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("TICKERBENCH_SOAK_CONNS")); err == nil && v > 0 {
		n = v
	}
	srv := startTickerfan(t, "")
	p := Profile{
		Target: "ws://" + srv.addr + "/", Connections: n, ConnectRate: 2000, Warmup: 3 * time.Second,
		Duration: 10 * time.Second, Server: ServerProfile{PID: srv.pid}, Output: OutputProfile{Quiet: true},
	}
	res := execute(t, p)
	m := res.Measured
	t.Logf("%d subscribers: %.0f msg/s, p50 %.2f ms, p99 %.2f ms, delivery %.4f (%s), server cpu %.0f%%",
		n, m.MessagesPerSec, m.Latency.P50, m.Latency.P99, m.DeliveryRatio, m.DeliveryBasis, m.Server.CPUPercent)
	if res.Connections.Opened != int64(n) || m.Level2 == nil || m.Level2.Ratio != 1 {
		t.Fatalf("opened %d of %d, level2 %+v", res.Connections.Opened, n, m.Level2)
	}
	if s := m.ServerSent; s == nil || s.Ratio < 0.98 || s.Ratio > 1.02 {
		t.Fatalf("server sent %+v", s)
	}
	if err := WriteJSON(filepath.Join(t.TempDir(), "soak.json"), res); err != nil {
		t.Fatal(err)
	}
}
