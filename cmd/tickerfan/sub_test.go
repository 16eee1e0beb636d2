package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// `tickerfan sub` prints every message as one JSON object per line, the
// subscriptions answer first and a snapshot before any l2update.
func TestSubPrintsJSONLines(t *testing.T) {
	p := startProcess(t)
	cmd := exec.Command(binary, "sub", "-url", "ws://"+p.addr+"/", "-products", "BTC-USD,ETH-USD",
		"-channels", "ticker,level2", "-checksum", "-count", "50")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sub: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50:\n%s", len(lines), out)
	}
	snap := map[string]bool{}
	for i, l := range lines {
		var m struct {
			Type      string  `json:"type"`
			ProductID string  `json:"product_id"`
			Checksum  *uint32 `json:"checksum"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i+1, err, l)
		}
		switch {
		case i == 0 && m.Type != "subscriptions":
			t.Errorf("first line %s, want the subscriptions answer", l)
		case m.Type == "snapshot":
			snap[m.ProductID] = true
		case m.Type == "l2update" && !snap[m.ProductID]:
			t.Errorf("line %d: l2update of %s before its snapshot", i+1, m.ProductID)
		}
		if (m.Type == "l2update" || m.Type == "snapshot") && m.Checksum == nil {
			t.Errorf("line %d: no checksum though -checksum: %s", i+1, l)
		}
	}
	if !snap["BTC-USD"] || !snap["ETH-USD"] {
		t.Errorf("snapshots seen %v, want both products", snap)
	}
}

// A refused subscription ends sub with the server's reason and exit 1.
func TestSubRefused(t *testing.T) {
	p := startProcess(t)
	out, err := exec.Command(binary, "sub", "-url", "ws://"+p.addr+"/", "-products", "FOO-USD").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "FOO-USD is not a valid product") {
		t.Errorf("sub FOO-USD: %v\n%s", err, out)
	}
}

// /feeds counts the simulator's updates as messages, with a rate from the
// first seconds; the pprof listener answers on its own loopback address.
func TestSimulatorFeedCountedAndPprof(t *testing.T) {
	pprofAddr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("debug:\n  pprof_listen: "+pprofAddr+"\n"), 0o644)
	p := startProcess(t, "-config", cfg)
	var feeds []struct {
		Name     string  `json:"name"`
		Messages uint64  `json:"messages"`
		Rate     float64 `json:"messages_per_second"`
	}
	testwait.For(t, 10*time.Second, "/feeds counting the simulator's messages at > 100/s", func() (string, bool) {
		resp, err := http.Get("http://" + p.addr + "/feeds")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&feeds)
		resp.Body.Close()
		// 8 products x 20 updates/s, plus trades: well over 100/s.
		return fmt.Sprintf("%+v", feeds), len(feeds) == 1 && feeds[0].Messages > 0 && feeds[0].Rate > 100
	})
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pprof: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get("http://" + p.addr + "/debug/pprof/")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof on the feed's port: %v %v, want 404", err, resp)
	}
}
