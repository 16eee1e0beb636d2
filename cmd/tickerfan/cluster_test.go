package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/bus/bustest"
	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/internal/testwait"
)

// The tests here run an ingest and edges as tickerfan processes on a real
// NATS server embedded in the test process, fed by a scripted upstream, and
// compare every process's level-2 books with the exchange's over REST.

// fastNATS makes failover and recovery quick enough for a short test.
const fastNATS = `
  heartbeat_interval: 100ms
  ingest_timeout: 600ms
  snapshot_timeout: 300ms
  stale_timeout: 300ms
`

// ingestConfig is relayConfig from url, publishing to NATS as ingest id.
func ingestConfig(t *testing.T, url, id string) string {
	t.Helper()
	data, err := os.ReadFile(relayConfig(t, url, ""))
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, string(data)+"nats:\n  role: ingest\n  ingest_id: "+id+"\n"+fastNATS)
}

// edgeConfig is an edge of BTC-USD and ETH-USD; its URL is a dead one, so
// the test's -nats flag must override it.
func edgeConfig(t *testing.T) string {
	return writeConfig(t, `
products:
  - {id: BTC-USD, quote_increment: "0.01", base_increment: "0.00000001"}
  - {id: ETH-USD, quote_increment: "0.01", base_increment: "0.00000001"}
nats:
  role: edge
  url: nats://127.0.0.1:1
`+fastNATS)
}

func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tickerfan.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// clusterOf reads /cluster.
func clusterOf(t *testing.T, addr string) clusterState {
	t.Helper()
	var s clusterState
	getJSON(t, "http://"+addr+"/cluster", &s)
	return s
}

// TestClusterFaults: an ingest and two edges serve the exchange's books
// exactly, before and after each fault: NATS down while the market moves, an
// edge restarted, the ingest restarted (a new epoch) while the market moves.
// A subscriber of an edge, connected throughout, sees the products offline
// during the outage, then a fresh snapshot, and its books stay exact.
func TestClusterFaults(t *testing.T) {
	ns := bustest.Start(t)
	pauses := map[int]*pause{500: newPause(), 1000: newPause()}
	ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 1500, func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			if p := pauses[step]; p != nil {
				p.wait(c)
			}
		}
	})
	ingestCfg := ingestConfig(t, up.URL(), "a")
	in := startProcess(t, "-config", ingestCfg, "-nats", ns.URL())
	e1 := startProcess(t, "-config", edgeConfig(t), "-nats", ns.URL())
	e2 := startProcess(t, "-config", edgeConfig(t), "-nats", ns.URL())
	pauses[500].reached(t)
	waitExact(t, ex, 500, in.addr, e1.addr, e2.addr)
	c := dialWS(t, e1.addr)
	subscribe(t, c, `{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2","status"]}`)
	sub := newSubscriber(c, upstreamProducts...)
	sub.waitStatus(t, "online")

	ns.Stop() // NATS down while the market moves on, then back on the same port
	sub.waitStatus(t, "offline")
	pauses[500].release()
	pauses[1000].reached(t)
	waitExact(t, ex, 1000, in.addr)
	ns.Start()
	sub.waitStatus(t, "online")
	waitExact(t, ex, 1000, e1.addr, e2.addr)
	subscriberExact(t, sub, e1.addr)
	for _, id := range upstreamProducts {
		if _, _, _, snaps, err := sub.state(id); err != nil || snaps < 2 {
			t.Errorf("%s: subscriber got %d snapshots (%v); want a fresh one after the outage", id, snaps, err)
		}
	}

	e2.cmd.Process.Kill() // an edge killed and started again
	<-e2.done
	e2.done <- nil
	e2 = startProcess(t, "-config", edgeConfig(t), "-nats", ns.URL())
	waitExact(t, ex, 1000, e2.addr)
	for _, id := range upstreamProducts { // the late edge got the ticker and the recent trades
		waitTrade(t, ex, e2.addr, id)
		var trades []map[string]any
		getJSON(t, "http://"+e2.addr+"/products/"+id+"/trades?limit=5", &trades)
		if len(trades) != 5 || trades[0]["trade_id"].(float64) != float64(ex.LastTradeID(id)) {
			t.Errorf("%s: the restarted edge's trades %v; want the last 5, newest %d first", id, trades, ex.LastTradeID(id))
		}
	}

	in.cmd.Process.Kill() // the ingest killed, and started again on a moving market
	<-in.done
	in.done <- nil
	in = startProcess(t, "-config", ingestCfg, "-nats", ns.URL())
	waitExact(t, ex, 1500, in.addr, e1.addr, e2.addr)
	subscriberExact(t, sub, e1.addr)
	for _, id := range upstreamProducts {
		waitTrade(t, ex, e1.addr, id)
		waitTrade(t, ex, e2.addr, id)
	}
	waitFor(t, 5*time.Second, "edges follow the new epoch", func() (bool, string) {
		s := clusterOf(t, e1.addr)
		epoch := clusterOf(t, in.addr).Publisher.Epoch
		for _, p := range s.Follower.Products {
			if p.Epoch != epoch || p.State != "following" {
				return false, fmt.Sprintf("%+v, ingest epoch %d", p, epoch)
			}
		}
		return s.Follower.Epochs >= 1 && s.Follower.Connected, fmt.Sprintf("%+v", s.Follower)
	})
	m := scrape(t, e1.addr, `tickerfan_cluster_recoveries_total`, `tickerfan_cluster_nats_connected{conn="follow"}`)
	if m[`tickerfan_cluster_recoveries_total`] < 6 || m[`tickerfan_cluster_nats_connected{conn="follow"}`] != 1 {
		t.Errorf("edge metrics %v; want recoveries for start, NATS restart and ingest restart, connected", m)
	}
}

// TestClusterFailover: two ingests of identical exchanges; the edge follows
// ingest a, and b after a is killed, and serves b's books exactly while the
// market moves on.
func TestClusterFailover(t *testing.T) {
	ns := bustest.Start(t)
	pa, pb := newPause(), newPause()
	script := func(p *pause) (*feedtest.Exchange, *feedtest.Server) {
		ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 1600, func(s *feedtest.Script) {
			s.BeforeStep = func(step int, c *feedtest.Conn) {
				if step == 800 {
					p.wait(c)
				}
			}
		})
		return ex, up
	}
	exA, upA := script(pa)
	exB, upB := script(pb)
	a := startProcess(t, "-config", ingestConfig(t, upA.URL(), "a"), "-nats", ns.URL())
	b := startProcess(t, "-config", ingestConfig(t, upB.URL(), "b"), "-nats", ns.URL())
	e := startProcess(t, "-config", edgeConfig(t), "-nats", ns.URL())
	pa.reached(t)
	pb.reached(t)
	waitExact(t, exA, 800, a.addr, e.addr)
	waitExact(t, exB, 800, b.addr)

	a.cmd.Process.Kill()
	killed := time.Now()
	pb.release()
	waitExact(t, exB, 1600, b.addr, e.addr)
	t.Logf("edge exact on ingest b %v after a was killed", time.Since(killed).Round(time.Millisecond))
	s := clusterOf(t, e.addr).Follower
	if s.Failovers != uint64(len(upstreamProducts)) {
		t.Errorf("failovers = %d, want one per product", s.Failovers)
	}
	for _, p := range s.Products {
		if p.Ingest != "b" || p.State != "following" {
			t.Errorf("product %+v; want following b", p)
		}
	}
}

// subscriberExact waits until a subscriber's books, built from snapshot and
// l2update, reach the server's level2 sequence, and fails unless they then
// equal the server's REST books.
func subscriberExact(t *testing.T, sub *subscriber, addr string) {
	t.Helper()
	for _, id := range upstreamProducts {
		rest := getBook(t, addr, id)
		waitFor(t, 5*time.Second, id+" subscriber at the server's sequence", func() (bool, string) {
			bids, asks, seq, _, err := sub.state(id)
			if err != nil {
				t.Fatalf("subscriber: %v", err)
			}
			if seq < rest.Sequence {
				return false, fmt.Sprintf("at %v of %v", seq, rest.Sequence)
			}
			if bids != levels(rest.Bids) || asks != levels(rest.Asks) {
				t.Fatalf("%s: the subscriber's book differs from the server's:\n%s\n%s", id, bids, levels(rest.Bids))
			}
			return true, ""
		})
	}
}

// waitFor polls cond until it holds, and fails after d with what it last said.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	testwait.For(t, d, what, func() (string, bool) {
		ok, last := cond()
		return last, ok
	})
}

func TestCheckReportsNATSProblems(t *testing.T) {
	path := writeConfig(t, "nats:\n  role: edgy\n  products: [FOO-USD]\n  stale_timeout: -1s\n  lease: 1\n")
	out, err := exec.Command(binary, "-check", "-config", path).CombinedOutput()
	if err == nil {
		t.Fatalf("-check accepted a bad nats section:\n%s", out)
	}
	for _, want := range []string{
		path + ":2: nats.role: must be single, ingest, edge or both (got \"edgy\")",
		path + ":3: nats.products[0]: FOO-USD is not in the products list",
		path + ":4: nats.stale_timeout: must be >= 0 (got -1s)",
		path + ":5: nats.lease: unknown field \"lease\"",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, cfg := range []string{"../../configs/nats-ingest.yaml", "../../configs/nats-edge.yaml"} {
		if out, err := exec.Command(binary, "-check", "-config", cfg).CombinedOutput(); err != nil {
			t.Errorf("-check %s: %v\n%s", cfg, err, out)
		}
	}
}

// TestClusterDemo: `tickerfan cluster` starts NATS, an ingest and two edges,
// prints their URLs, and the edges serve the ingest's products.
func TestClusterDemo(t *testing.T) {
	port := freePorts(t, 3)
	cmd := exec.Command(binary, "cluster", "-port", strconv.Itoa(port), "-nats-listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var addrs []string
	for len(addrs) < 3 && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && strings.HasPrefix(f[1], "http://") {
			addrs = append(addrs, strings.Trim(strings.TrimPrefix(f[1], "http://"), "/"))
		}
	}
	if len(addrs) != 3 {
		t.Fatalf("printed %v, want an ingest and two edges", addrs)
	}
	for _, addr := range addrs[1:] {
		waitFor(t, 10*time.Second, "edge "+addr+" serves BTC-USD", func() (bool, string) {
			resp, err := http.Get("http://" + addr + "/products/BTC-USD/book?level=2")
			if err != nil {
				return false, err.Error()
			}
			defer resp.Body.Close()
			var b restBook
			if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
				return false, err.Error()
			}
			return len(b.Bids) > 10 && len(b.Asks) > 10, fmt.Sprintf("%d bids, %d asks", len(b.Bids), len(b.Asks))
		})
	}
}

// freePorts returns the first of n consecutive free ports on 127.0.0.1.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		_, p, _ := net.SplitHostPort(freeAddr(t))
		base, _ := strconv.Atoi(p)
		var held []net.Listener
		for i := 0; i < n; i++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				break
			}
			held = append(held, ln)
		}
		for _, ln := range held {
			ln.Close()
		}
		if len(held) == n {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// TestNATSRoleProducts: what each role publishes, follows and serves.
func TestNATSRoleProducts(t *testing.T) {
	cases := []struct {
		name, yaml                  string
		published, followed, served string
	}{
		{"single", "", "map[AVAX-USD:simulator BTC-USD:simulator DOGE-USD:simulator ETH-BTC:simulator ETH-USD:simulator LINK-USD:simulator LTC-USD:simulator SOL-USD:simulator]",
			"", "8"},
		{"edge of a list", "nats: {role: edge, products: [ETH-USD, BTC-USD]}", "map[]", "[ETH-USD BTC-USD]", "2"},
		{"edge of all", "nats: {role: edge}", "map[]",
			"[BTC-USD ETH-USD SOL-USD ETH-BTC DOGE-USD AVAX-USD LTC-USD LINK-USD]", "8"},
		{"both", "nats: {role: both}\nfeeds: [{name: s, kind: simulator, products: [BTC-USD, ETH-USD]}]",
			"map[BTC-USD:s ETH-USD:s]", "[SOL-USD ETH-BTC DOGE-USD AVAX-USD LTC-USD LINK-USD]", "8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := loadConfig(writeConfig(t, c.yaml), true)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			published := "map[]"
			if cfg.NATS.Ingests() || c.name == "single" {
				published = fmt.Sprint(cfg.feedOfProducts())
			}
			followed := ""
			if cfg.NATS.Follows() {
				followed = fmt.Sprint(cfg.followedProducts())
			}
			if published != c.published || followed != c.followed || fmt.Sprint(len(cfg.servedProducts())) != c.served {
				t.Errorf("published %s, followed %s, served %d; want %s, %s, %s",
					published, followed, len(cfg.servedProducts()), c.published, c.followed, c.served)
			}
		})
	}
	for yaml, want := range map[string]string{
		"nats: {role: both, products: [BTC-USD]}\nfeeds: [{name: s, kind: simulator, products: [BTC-USD]}]": ":1: nats.products[0]: BTC-USD comes from feed s of this node",
		"nats: {role: both}":                        ":1: nats.role: both: every product comes from this node's feeds",
		"nats: {role: ingest, products: [BTC-USD]}": ":1: nats.products: only an edge",
	} {
		if _, _, err := loadConfig(writeConfig(t, yaml), true); !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("%q: loadConfig = %v, want %q", yaml, err, want)
		}
	}
}
