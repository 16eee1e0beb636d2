package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

var binary string

// TestMain builds the tickerfan binary once; the tests run it as users do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tickerfan-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tickerfan")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a running tickerfan.
type process struct {
	cmd  *exec.Cmd
	addr string
	done chan error
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, append([]string{"-listen", addr, "-log-level", "warn"}, args...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addr: addr, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	testwait.For(t, 15*time.Second, "tickerfan healthy", func() (string, bool) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err.Error(), false
		}
		resp.Body.Close()
		return resp.Status, resp.StatusCode == http.StatusOK
	})
	return p
}

// scrape reads the named metrics (unlabelled samples) from /metrics.
func scrape(t *testing.T, addr string, names ...string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && want[name] {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("metric %s=%q", name, value)
			}
			out[name] = v
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			t.Fatalf("metric %s missing from /metrics", n)
		}
	}
	return out
}

func TestSIGTERMClosesWith1001AndExitsZero(t *testing.T) {
	p := startProcess(t)
	c := dialWS(t, p.addr)
	subscribe(t, c, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code, reason := readClose(t, c, 5*time.Second); code != 1001 || reason != "server shutting down" {
		t.Fatalf("close %d %q, want 1001", code, reason)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v, want status 0", err)
		}
		p.done <- nil
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10s after SIGTERM")
	}
}

func TestCheckReportsFileLineAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("server:\n  lisen: 1.2.3.4:80\n  max_queue_bytes: -5\nfeeds:\n  - kind: carrier-pigeon\n"), 0o644)
	out, err := exec.Command(binary, "-check", "-config", path).CombinedOutput()
	if err == nil {
		t.Fatalf("-check accepted a bad config:\n%s", out)
	}
	for _, want := range []string{
		path + ":2: server.lisen: unknown field \"lisen\"",
		path + ":3: server.max_queue_bytes: must be >= 0 (got -5)",
		path + ":5: feeds[0].kind: unknown feed kind \"carrier-pigeon\"",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(binary, "-check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("-check of the default config: %v\n%s", err, out)
	}
}

// Idle subscribed connections cost no goroutine and little memory. CI opens
// 2,000; TICKERFAN_IDLE_CONNS=10000 reproduces the README's figure.
func TestIdleConnectionsCostNoGoroutine(t *testing.T) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("TICKERFAN_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	p := startProcess(t)
	const warm = 200
	open := func(count int) []net.Conn {
		conns := make([]net.Conn, 0, count)
		for i := 0; i < count; i++ {
			c := dialWS(t, p.addr)
			subscribe(t, c, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}`)
			conns = append(conns, c)
		}
		return conns
	}
	// settled waits until the server counts want connections and its
	// goroutines stopped changing between two scrapes (the handshakes' are gone).
	settled := func(want int) {
		last := -1.0
		testwait.For(t, 10*time.Second, fmt.Sprintf("%d connections and a steady goroutine count", want), func() (string, bool) {
			m := scrape(t, p.addr, "go_goroutines", `tickerfan_connections{kind="websocket"}`)
			prev := last
			last = m["go_goroutines"]
			return fmt.Sprint(m), m[`tickerfan_connections{kind="websocket"}`] == float64(want) && last == prev
		})
	}
	open(warm)
	settled(warm)
	before := scrape(t, p.addr, "go_goroutines", "process_resident_memory_bytes")
	open(n)
	settled(warm + n)
	after := scrape(t, p.addr, "go_goroutines", "process_resident_memory_bytes", `tickerfan_connections{kind="websocket"}`)
	if got := after[`tickerfan_connections{kind="websocket"}`]; got != float64(warm+n) {
		t.Fatalf("tickerfan_connections = %v, want %d", got, warm+n)
	}
	grew := after["go_goroutines"] - before["go_goroutines"]
	perConn := (after["process_resident_memory_bytes"] - before["process_resident_memory_bytes"]) / float64(n)
	t.Logf("%d idle connections: goroutines %v -> %v, RSS %.1f MiB -> %.1f MiB, %.0f bytes per connection",
		n, before["go_goroutines"], after["go_goroutines"],
		before["process_resident_memory_bytes"]/(1<<20), after["process_resident_memory_bytes"]/(1<<20), perConn)
	if grew > 10 {
		t.Errorf("goroutines grew by %v for %d connections; an idle connection must hold none", grew, n)
	}
	if perConn >= 8192 {
		t.Errorf("resident memory grew %.0f bytes per connection, want under 8 KiB", perConn)
	}
}
