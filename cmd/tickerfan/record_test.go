package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/internal/testwait"
)

var progressRE = regexp.MustCompile(`: (\d+) messages, `)

// `tickerfan record` keeps a scripted session; a tickerfan replaying the
// file serves the exchange's exact books.
func TestRecordCommandThenReplay(t *testing.T) {
	ex, script, up := scripted(t, feedtest.ExchangeConfig{}, 800, nil)
	out := filepath.Join(t.TempDir(), "session.jsonl.gz")
	cmd := exec.Command(binary, "record", "-url", up.URL(), "-products", "BTC-USD,ETH-USD",
		"-channels", "level2,ticker,matches,heartbeat", "-out", out, "-progress", "20ms")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	// Wait until the recorder has received everything the script sent.
	deadline := time.After(20 * time.Second)
	for recorded := 0; ex.Steps() < 800 || recorded < script.Sent(); {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("record exited early: %v", <-done)
			}
			if m := progressRE.FindStringSubmatch(line); m != nil {
				recorded, _ = strconv.Atoi(m[1])
			}
		case <-deadline:
			t.Fatalf("the recorder did not receive %d messages in 20s", script.Sent())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	var last string
	for line := range lines {
		last = line
	}
	if err := <-done; err != nil {
		t.Fatalf("record exit: %v", err)
	}
	if !strings.Contains(last, fmt.Sprintf(": %d messages", script.Sent())) {
		t.Errorf("summary %q, want %d messages", last, script.Sent())
	}

	p := startProcess(t, "-config", replayConfig(t, out, "speed: 0"))
	waitExact(t, ex, 800, p.addr)
	for _, id := range upstreamProducts {
		waitTrade(t, ex, p.addr, id)
	}
	f := feeds(t, p.addr)[0]
	if f["kind"] != "replay" || f["state"] != "stopped" {
		t.Errorf("/feeds %v: want the replay stopped at the end of the file", f)
	}
}

func replayConfig(t *testing.T, path, settings string) string {
	t.Helper()
	cfg := fmt.Sprintf(`
products:
  - {id: BTC-USD, quote_increment: "0.01", base_increment: "0.00000001"}
  - {id: ETH-USD, quote_increment: "0.01", base_increment: "0.00000001"}
feeds:
  - name: replay
    kind: replay
    products: [BTC-USD, ETH-USD]
    replay: {path: %q, %s}
`, path, settings)
	file := filepath.Join(t.TempDir(), "replay.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// configs/replay.yaml, the shipped example, replays the shipped sample.
func TestShippedReplayConfig(t *testing.T) {
	data, err := os.ReadFile("../../configs/replay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sample, _ := filepath.Abs("../../configs/sample.jsonl.gz")
	cfg := strings.Replace(string(data), "path: configs/sample.jsonl.gz", "path: "+sample, 1)
	path := filepath.Join(t.TempDir(), "replay.yaml")
	os.WriteFile(path, []byte(cfg), 0o644)
	p := startProcess(t, "-config", path)
	testwait.For(t, 10*time.Second, "the sample replay live with a book", func() (string, bool) {
		f := feeds(t, p.addr)[0]
		b := getBook(t, p.addr, "ETH-BTC")
		seen := fmt.Sprintf("%v; %d bids, %d asks", f, len(b.Bids), len(b.Asks))
		return seen, f["state"] == "live" && f["messages"].(float64) > 0 && len(b.Bids) > 0 && len(b.Asks) > 0
	})
}
