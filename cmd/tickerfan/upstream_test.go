package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/internal/testwait"
)

// The tests here run tickerfan processes whose upstream is a scripted
// Coinbase-protocol feed (feedtest) in the test process, on 127.0.0.1.

var upstreamProducts = []string{"BTC-USD", "ETH-USD"}

// relayConfig is a tickerfan config with one coinbase feed of BTC-USD and
// ETH-USD from url, subscribing channels (level2, ticker, matches and
// heartbeat when empty).
func relayConfig(t *testing.T, url string, channels string) string {
	t.Helper()
	if channels == "" {
		channels = "level2, ticker, matches, heartbeat"
	}
	cfg := fmt.Sprintf(`
products:
  - {id: BTC-USD, quote_increment: "0.01", base_increment: "0.00000001"}
  - {id: ETH-USD, quote_increment: "0.01", base_increment: "0.00000001"}
feeds:
  - name: up
    kind: coinbase
    products: [BTC-USD, ETH-USD]
    coinbase:
      url: %s
      channels: [%s]
      stale_timeout: 30s
      backoff_min: 20ms
      backoff_max: 200ms
`, url, channels)
	path := filepath.Join(t.TempDir(), "tickerfan.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// scripted starts an exchange of BTC-USD and ETH-USD played by a script of
// steps steps; tweak adjusts the script before it serves.
func scripted(t *testing.T, ex feedtest.ExchangeConfig, steps int, tweak func(*feedtest.Script)) (*feedtest.Exchange, *feedtest.Script, *feedtest.Server) {
	t.Helper()
	ex.Products = upstreamProducts
	e, err := feedtest.NewExchange(ex)
	if err != nil {
		t.Fatal(err)
	}
	s := &feedtest.Script{Exchange: e, Steps: steps, HeartbeatEvery: 50}
	if tweak != nil {
		tweak(s)
	}
	return e, s, feedtest.NewServer(t, s.Serve)
}

// restBook is a book as /products/{id}/book?level=2 serves it.
type restBook struct {
	Bids, Asks [][]any
	Sequence   float64
}

func getBook(t *testing.T, addr, id string) restBook {
	t.Helper()
	var b restBook
	getJSON(t, "http://"+addr+"/products/"+id+"/book?level=2", &b)
	return b
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// levels renders REST levels like feedtest.FormatLevels.
func levels(ls [][]any) string {
	s := ""
	for _, l := range ls {
		s += decimal.RequireFromString(l[0].(string)).String() + "@" + decimal.RequireFromString(l[1].(string)).String() + " "
	}
	return s
}

// waitExact waits until the exchange has taken steps steps and every book
// each tickerfan serves equals the exchange's, and fails after 20s.
func waitExact(t *testing.T, ex *feedtest.Exchange, steps int, addrs ...string) {
	t.Helper()
	testwait.For(t, 20*time.Second, "books exact", func() (string, bool) {
		diff := ""
		if n := ex.Steps(); n < steps {
			diff = fmt.Sprintf("exchange at step %d of %d", n, steps)
		}
		for _, id := range upstreamProducts {
			bids, asks := ex.Book(id)
			for _, addr := range addrs {
				if diff != "" {
					break
				}
				b := getBook(t, addr, id)
				if levels(b.Bids) != feedtest.FormatLevels(bids) || levels(b.Asks) != feedtest.FormatLevels(asks) {
					diff = fmt.Sprintf("%s on %s:\n got bids %s\nwant bids %s\n got asks %s\nwant asks %s",
						id, addr, levels(b.Bids), feedtest.FormatLevels(bids), levels(b.Asks), feedtest.FormatLevels(asks))
				}
			}
		}
		return diff, diff == ""
	})
}

// waitTrade waits until a tickerfan's ticker of id shows the exchange's last trade.
func waitTrade(t *testing.T, ex *feedtest.Exchange, addr, id string) {
	t.Helper()
	testwait.For(t, 10*time.Second, id+" ticker on "+addr+" at the exchange's last trade", func() (string, bool) {
		var tk struct {
			TradeID int64 `json:"trade_id"`
		}
		getJSON(t, "http://"+addr+"/products/"+id+"/ticker", &tk)
		last := ex.LastTradeID(id)
		return fmt.Sprintf("ticker at trade %d, the exchange's last is %d", tk.TradeID, last), tk.TradeID == last
	})
}

// feeds reads /feeds.
func feeds(t *testing.T, addr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	getJSON(t, "http://"+addr+"/feeds", &out)
	return out
}

func TestUpstreamBookExact(t *testing.T) {
	ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 2000, nil)
	p := startProcess(t, "-config", relayConfig(t, up.URL(), ""))
	waitExact(t, ex, 2000, p.addr)
	for _, id := range upstreamProducts {
		waitTrade(t, ex, p.addr, id)
	}
	m := scrape(t, p.addr, `tickerfan_feed_messages_total{feed="up"}`, `tickerfan_feed_state{feed="up",state="live"}`,
		`tickerfan_book_changes_total`, `tickerfan_feed_reconnects_total{feed="up"}`)
	if m[`tickerfan_feed_messages_total{feed="up"}`] < 4000 || m[`tickerfan_feed_state{feed="up",state="live"}`] != 1 ||
		m[`tickerfan_feed_reconnects_total{feed="up"}`] != 0 {
		t.Errorf("metrics %v: want thousands of messages, live, no reconnect", m)
	}
	f := feeds(t, p.addr)
	if len(f) != 1 || f[0]["name"] != "up" || f[0]["kind"] != "coinbase" || f[0]["state"] != "live" || f[0]["source"] != up.URL() {
		t.Errorf("/feeds %v", f)
	}
}

// B's upstream is A, A's is the script: once the script is quiet, A and B
// serve identical books, equal to the exchange's.
func TestChainedRelaysServeIdenticalBooks(t *testing.T) {
	ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 1500, nil)
	a := startProcess(t, "-config", relayConfig(t, up.URL(), ""))
	b := startProcess(t, "-config", relayConfig(t, "ws://"+a.addr+"/", ""))
	waitExact(t, ex, 1500, a.addr, b.addr)
	for _, id := range upstreamProducts {
		waitTrade(t, ex, a.addr, id)
		waitTrade(t, ex, b.addr, id)
		ba, bb := getBook(t, a.addr, id), getBook(t, b.addr, id)
		if fmt.Sprint(ba.Bids, ba.Asks) != fmt.Sprint(bb.Bids, bb.Asks) {
			t.Errorf("%s: A and B serve different books", id)
		}
	}
	if f := feeds(t, b.addr); f[0]["state"] != "live" || f[0]["gaps"].(float64) != 0 {
		t.Errorf("B's feed %v: want live without gaps", f[0])
	}
}

// An edge that subscribes its core's status channel shows the core's
// outages: when the core loses its upstream, the edge's subscribers see the
// products go offline, and online again when the core has resynced.
func TestChainedRelayPropagatesStatus(t *testing.T) {
	pauses := map[int]*pause{400: newPause()}
	ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 800, func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			if p := pauses[step]; p != nil {
				p.wait(c)
			}
		}
	})
	core := startProcess(t, "-config", relayConfig(t, up.URL(), ""))
	edge := startProcess(t, "-config", relayConfig(t, "ws://"+core.addr+"/", "level2, ticker, matches, heartbeat, status"))
	pauses[400].reached(t)
	waitExact(t, ex, 400, core.addr, edge.addr)
	c := dialWS(t, edge.addr)
	subscribe(t, c, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["status"]}`)
	sub := newSubscriber(c)
	sub.waitStatus(t, "online")
	up.Kill()
	sub.waitStatus(t, "offline")
	ex.Advance(50)
	up.Restart()
	sub.waitStatus(t, "online")
	waitExact(t, ex, 800, core.addr, edge.addr)
	if f := feeds(t, edge.addr)[0]; f["state"] != "live" || f["reconnects"].(float64) != 0 {
		t.Errorf("edge feed %v: its own connection never dropped", f)
	}
}

// clientBook is a subscriber's book from snapshot + l2update, checking on
// the way that every update applies.
type clientBook struct {
	bids, asks map[string]decimal.Decimal
	seq        float64
	snapshots  int
}

func (cb *clientBook) snapshot(m map[string]any) {
	cb.bids, cb.asks = map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for side, book := range map[string]map[string]decimal.Decimal{"bids": cb.bids, "asks": cb.asks} {
		for _, l := range m[side].([]any) {
			pair := l.([]any)
			book[decimal.RequireFromString(pair[0].(string)).String()] = decimal.RequireFromString(pair[1].(string))
		}
	}
	cb.seq = m["sequence"].(float64)
	cb.snapshots++
}

// update applies an l2update, or says why it does not apply: a gap in
// sequence, a removal of a level not held, a crossed book.
func (cb *clientBook) update(m map[string]any) error {
	if cb.bids == nil {
		return fmt.Errorf("l2update before any snapshot: %v", m)
	}
	if seq := m["sequence"].(float64); seq != cb.seq+1 {
		return fmt.Errorf("l2update sequence %v after %v", seq, cb.seq)
	}
	cb.seq++
	for _, raw := range m["changes"].([]any) {
		c := raw.([]any)
		book := cb.bids
		if c[0] == "sell" {
			book = cb.asks
		}
		price, size := decimal.RequireFromString(c[1].(string)), decimal.RequireFromString(c[2].(string))
		key := price.String()
		if _, held := book[key]; size.IsZero() && !held {
			return fmt.Errorf("update %v removes a level the client does not hold", c)
		}
		if size.IsZero() {
			delete(book, key)
		} else {
			book[key] = size
		}
	}
	if bid, ask := best(cb.bids, true), best(cb.asks, false); bid != nil && ask != nil && !bid.LessThan(*ask) {
		return fmt.Errorf("client book crossed after %v: bid %s, ask %s", m, bid, ask)
	}
	return nil
}

func best(side map[string]decimal.Decimal, highest bool) *decimal.Decimal {
	var b *decimal.Decimal
	for p := range side {
		d := decimal.RequireFromString(p)
		if b == nil || (highest && d.GreaterThan(*b)) || (!highest && d.LessThan(*b)) {
			b = &d
		}
	}
	return b
}

// format renders one side best first, like levels.
func format(side map[string]decimal.Decimal, bids bool) string {
	ps := make([]decimal.Decimal, 0, len(side))
	for p := range side {
		ps = append(ps, decimal.RequireFromString(p))
	}
	slices.SortFunc(ps, func(a, b decimal.Decimal) int {
		if bids {
			return b.Cmp(a)
		}
		return a.Cmp(b)
	})
	s := ""
	for _, p := range ps {
		s += p.String() + "@" + side[p.String()].String() + " "
	}
	return s
}

// subscriber reads a connection's level2 and status messages on its own
// goroutine, keeping a clientBook per product and reporting BTC-USD's
// status changes.
type subscriber struct {
	mu       sync.Mutex
	books    map[string]*clientBook
	err      error
	statuses chan string
}

func newSubscriber(nc net.Conn, ids ...string) *subscriber {
	s := &subscriber{books: map[string]*clientBook{}, statuses: make(chan string, 64)}
	for _, id := range ids {
		s.books[id] = &clientBook{}
	}
	go s.read(nc)
	return s
}

func (s *subscriber) read(nc net.Conn) {
	last := ""
	for {
		data, err := wsutil.ReadServerText(nc)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			s.fail(fmt.Errorf("not JSON: %q", data))
			return
		}
		id, _ := m["product_id"].(string)
		switch m["type"] {
		case "snapshot":
			s.mu.Lock()
			s.books[id].snapshot(m)
			s.mu.Unlock()
		case "l2update":
			s.mu.Lock()
			err := s.books[id].update(m)
			s.mu.Unlock()
			if err != nil {
				s.fail(err)
				return
			}
		case "status":
			if st := statusOf(m, "BTC-USD"); st != last {
				last = st
				select {
				case s.statuses <- st:
				default:
				}
			}
		}
	}
}

func (s *subscriber) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// state returns the subscriber's book of id, its level2 sequence and
// snapshot count, and the first error it met.
func (s *subscriber) state(id string) (bids, asks string, seq float64, snaps int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.books[id]
	return format(cb.bids, true), format(cb.asks, false), cb.seq, cb.snapshots, s.err
}

// waitStatus reads status changes until want, for 10s at most.
func (s *subscriber) waitStatus(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case st := <-s.statuses:
			if st == want {
				return
			}
		case <-timeout:
			t.Fatalf("BTC-USD never went %s", want)
		}
	}
}

// pause holds a script before a step until released or disconnected.
type pause struct {
	at, go_ chan struct{}
	once    sync.Once
}

func newPause() *pause { return &pause{at: make(chan struct{}), go_: make(chan struct{})} }

// wait runs in the script: it signals the pause and blocks.
func (p *pause) wait(c *feedtest.Conn) {
	p.once.Do(func() { close(p.at) })
	select {
	case <-p.go_:
	case <-c.Closed():
	}
}

// reached waits until the script is paused, for 20s at most.
func (p *pause) reached(t *testing.T) {
	t.Helper()
	select {
	case <-p.at:
	case <-time.After(20 * time.Second):
		t.Fatal("the script never reached its pause")
	}
}

func (p *pause) release() { close(p.go_) }

// statusOf returns the status of product id in a status message.
func statusOf(m map[string]any, id string) string {
	for _, p := range m["products"].([]any) {
		if pm := p.(map[string]any); pm["id"] == id {
			return pm["status"].(string)
		}
	}
	return ""
}

// The upstream dies mid-stream and the market moves on while it is down.
// tickerfan reconnects and resyncs; a subscriber connected throughout gets a
// fresh snapshot, never an update that does not apply, sees the products go
// offline and back online, and ends with the exact book.
func TestUpstreamKilledAndRestarted(t *testing.T) {
	// The script pauses before steps 0 and 800 until told to go on (or its
	// connection is gone).
	pauses := map[int]*pause{0: newPause(), 800: newPause()}
	ex, _, up := scripted(t, feedtest.ExchangeConfig{}, 1600, func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			if p := pauses[step]; p != nil {
				p.wait(c)
			}
		}
	})
	p := startProcess(t, "-config", relayConfig(t, up.URL(), ""))
	pauses[0].reached(t) // the snapshots are out
	waitExact(t, ex, 0, p.addr)
	c := dialWS(t, p.addr)
	subscribe(t, c, `{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2","status"]}`)
	sub := newSubscriber(c, upstreamProducts...)
	sub.waitStatus(t, "online")
	pauses[0].release()

	pauses[800].reached(t) // kill the upstream, move the market on, restart it
	up.Kill()
	sub.waitStatus(t, "offline")
	ex.Advance(100)
	restarted := time.Now()
	up.Restart()
	sub.waitStatus(t, "online")
	t.Logf("products back online %v after the upstream restarted", time.Since(restarted).Round(time.Millisecond))
	waitExact(t, ex, 1600, p.addr)

	// The subscriber catches up with the server's book and must equal it.
	for _, id := range upstreamProducts {
		rest := getBook(t, p.addr, id)
		testwait.For(t, 5*time.Second, id+": the subscriber at the server's sequence", func() (string, bool) {
			bids, asks, seq, snaps, err := sub.state(id)
			if err != nil {
				t.Fatalf("subscriber: %v", err)
			}
			if seq >= rest.Sequence {
				if bids != levels(rest.Bids) || asks != levels(rest.Asks) {
					t.Errorf("%s: the subscriber's book differs from the server's:\n%s\n%s", id, bids, levels(rest.Bids))
				}
				if snaps < 2 {
					t.Errorf("%s: the subscriber got %d snapshots, want a fresh one after the reconnect", id, snaps)
				}
				return "", true
			}
			return fmt.Sprintf("the subscriber is at sequence %v, the server at %v", seq, rest.Sequence), false
		})
	}
	m := scrape(t, p.addr, `tickerfan_feed_reconnects_total{feed="up"}`)
	if m[`tickerfan_feed_reconnects_total{feed="up"}`] < 1 {
		t.Errorf("reconnects %v, want at least 1", m)
	}
}
