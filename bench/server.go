package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverProcess is a server under test that tickerbench started itself.
type serverProcess struct {
	cmd    *exec.Cmd
	addr   string
	dir    string
	done   chan error
	stderr *tailWriter
}

// startServer runs the tickerfan binary at path on a free 127.0.0.1 port
// with a generated config: the upstream's products from a coinbase feed
// pointed at up, or, without up, tickerfan's built-in simulator. It returns
// once /healthz answers 200.
func startServer(ctx context.Context, path string, p Profile, up *Upstream) (*serverProcess, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tickerbench-server")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "tickerfan.yaml")
	if err := os.WriteFile(cfg, []byte(serverConfig(addr, p, up)), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &serverProcess{addr: addr, dir: dir, done: make(chan error, 1), stderr: &tailWriter{max: 8 << 10}}
	s.cmd = exec.Command(path, "-config", cfg, "-log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("%w: %v", ErrServerStart, err)
	}
	go func() { s.done <- s.cmd.Wait() }() // ends with the process; stop waits for it
	if err := s.waitHealthy(ctx, 20*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w: %v\n%s", ErrServerStart, err, s.stderr.String())
	}
	return s, nil
}

// serverConfig is the YAML config of a started server.
func serverConfig(addr string, p Profile, up *Upstream) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  listen: %s\n  max_connections: %d\n", addr, p.Server.MaxConnections)
	b.WriteString("log:\n  level: warn\n")
	if up == nil {
		return b.String() // the embedded catalog and simulator
	}
	return b.String() + fedBy(up)
}

// fedBy is the products and feeds sections of a config whose server is fed
// by up.
func fedBy(up *Upstream) string {
	var b strings.Builder
	b.WriteString("products:\n")
	for _, id := range up.Products() {
		fmt.Fprintf(&b, "  - {id: %s, quote_increment: \"0.01\", base_increment: \"0.00000001\"}\n", id)
	}
	b.WriteString(coinbaseFeed(up.URL(), up.Products()))
	return b.String()
}

// coinbaseFeed is the feeds section for tickerfan's coinbase adapter
// (coinbase.Config). It takes level2, not level2_batch, so that each
// upstream l2update is one l2update to level2 subscribers and the upstream's
// send counters say what each subscriber should receive.
func coinbaseFeed(url string, products []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "feeds:\n  - name: bench\n    kind: coinbase\n    products: [%s]\n", strings.Join(products, ", "))
	fmt.Fprintf(&b, "    coinbase:\n      url: %s\n      channels: [level2, ticker, matches, heartbeat]\n", url)
	return b.String()
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *serverProcess) waitHealthy(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get("http://" + s.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy within %s: %v", limit, err)
		}
	}
}

// pid is the server's process id.
func (s *serverProcess) pid() int { return s.cmd.Process.Pid }

// stop asks the server to shut down (SIGTERM), kills it after 10 s, and
// removes its config.
func (s *serverProcess) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

// Write keeps the tail of what the server prints.
func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = bytes.Clone(w.b[over:])
	}
	return len(p), nil
}

// String returns the kept tail.
func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
