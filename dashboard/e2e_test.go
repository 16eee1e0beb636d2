package dashboard

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// ladderRows is LADDER_ROWS in web/app.js: levels shown per side.
const ladderRows = 12

// wait bounds every wait of the end-to-end tests.
const wait = 15 * time.Second

// pageState is what a failed wait prints of the page.
const pageState = `{state: __tickerfan.state, product: __tickerfan.product, rendered: __tickerfan.rendered,
	bookSeq: __tickerfan.bookSeq, subscriptions: __tickerfan.subscriptions, errors: __tickerfan.errors,
	conn: document.querySelector('[data-testid=conn-state]').textContent.trim()}`

// TestDashboardEndToEnd drives the dashboard in headless Chromium against an
// in-process tickerfan fed by the simulator: the ladder equals the server's
// REST book, trades appear, switching product (keyboard and mouse) moves the
// subscriptions, and the page recovers when the server restarts.
func TestDashboardEndToEnd(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", busyMarket(11))
	p := newPage(t, 1280, 900)
	p.do(chromedp.Navigate(tf.url()))

	t.Log("first product: live, subscribed, with a book")
	waitProduct(p, "BTC-USD")
	checkSubscriptions(t, p, "BTC-USD")
	if n := eval[int](p, `document.querySelectorAll('[data-testid=product]').length`); n != len(model.DefaultProducts()) {
		t.Errorf("product list has %d products, want %d", n, len(model.DefaultProducts()))
	}
	p.waitFor(wait, "showing a last price for every product",
		`[...document.querySelectorAll('[data-testid=product-price]')].every(e => /^\d+\.\d+$/.test(e.textContent))`,
		`[...document.querySelectorAll('[data-testid=product-price]')].map(e => e.textContent)`)

	t.Log("hundreds of updates a second are drawn in batches, at most once per frame")
	checkBatching(t, p)

	t.Log("trades appear in the tape")
	checkTradesArrive(t, p, tf, "BTC-USD")

	t.Log("switch product with the keyboard")
	p.do(chromedp.Focus(chromedp.CSS(`[data-testid=product-list]`)), chromedp.KeyEvent(kb.ArrowDown))
	waitProduct(p, "ETH-USD")
	checkSubscriptions(t, p, "ETH-USD")

	t.Log("switch product with the mouse")
	p.do(chromedp.Click(chromedp.CSS(`[data-product-id="SOL-USD"]`)))
	waitProduct(p, "SOL-USD")
	checkSubscriptions(t, p, "SOL-USD")
	if sel := eval[string](p, `document.querySelector('[role=option][aria-selected=true]').dataset.productId`); sel != "SOL-USD" {
		t.Errorf("selected option is %s, want SOL-USD", sel)
	}

	t.Log("the ladder equals the REST book")
	checkLadderMatchesREST(t, p, tf, "SOL-USD")

	t.Log("server restart: reconnecting, then live with a fresh book")
	addr := tf.Addr
	connects := eval[int](p, `__tickerfan.connects`)
	tf.Shutdown()
	p.waitFor(wait, "showing reconnecting",
		`__tickerfan.state === 'reconnecting' && document.querySelector('[data-testid=conn-state]').dataset.state === 'reconnecting'`,
		pageState)
	// Stay down until a retry has failed: the page counts attempt 1 when the
	// connection is lost and attempt 2 once that retry failed.
	p.waitFor(wait, "showing a failed retry",
		`Number((document.querySelector('[data-ref=conn-retry]').textContent.match(/attempt (\d+)/) || [])[1]) >= 2`,
		`document.querySelector('[data-ref=conn-retry]').textContent`)
	tf2 := startTickerfan(t, addr, busyMarket(12))
	p.waitFor(wait, "live again", fmt.Sprintf(`__tickerfan.state === 'live' && __tickerfan.connects > %d`, connects), pageState)
	waitProduct(p, "SOL-USD")
	checkSubscriptions(t, p, "SOL-USD")
	checkLadderMatchesREST(t, p, tf2, "SOL-USD")
	if errs := eval[[]map[string]string](p, `__tickerfan.errors`); len(errs) > 0 {
		t.Errorf("the server answered with errors: %v", errs)
	}
	p.noExceptions()
}

// busyMarket steps every 2 ms with 400 level-2 events a second per product,
// so the page receives some 300 updates a second for its product.
func busyMarket(seed int64) sim.Config {
	return sim.Config{Seed: seed, UpdatesPerSecond: 400, TradesPerSecond: 4, Tick: 2 * time.Millisecond}
}

// checkBatching measures messages and drawn frames over two seconds: many
// more messages than frames, and no more frames than a 60 Hz display has.
func checkBatching(t *testing.T, p *page) {
	t.Helper()
	type counts struct{ Messages, Frames int }
	const read = `({messages: __tickerfan.messages, frames: __tickerfan.frames})`
	before := eval[counts](p, read)
	start := time.Now()
	time.Sleep(2 * time.Second) // the measurement window, not a wait for a condition
	after := eval[counts](p, read)
	secs := time.Since(start).Seconds()
	msgs, frames := after.Messages-before.Messages, after.Frames-before.Frames
	t.Logf("%.0f messages/s drawn in %.0f frames/s", float64(msgs)/secs, float64(frames)/secs)
	if float64(msgs)/secs < 200 {
		t.Errorf("only %d messages in %.1f s; the simulator should send more than 200 a second", msgs, secs)
	}
	if frames >= msgs || float64(frames) > 65*secs {
		t.Errorf("%d frames for %d messages in %.1f s: drawing is not batched per animation frame", frames, msgs, secs)
	}
}

// waitProduct waits until the page shows product's live book.
func waitProduct(p *page, product string) {
	p.t.Helper()
	p.waitFor(wait, "live with a "+product+" book", fmt.Sprintf(
		`__tickerfan.state === 'live' && __tickerfan.product === %[1]q && __tickerfan.rendered.product === %[1]q &&
		 __tickerfan.rendered.ready && document.querySelector('[data-testid=product-title]').textContent.includes(%[1]q)`,
		product), pageState)
}

type subscription struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids"`
}

// checkSubscriptions waits until the server's last subscriptions reply, as
// the page recorded it, has product's channels and no other product's, with
// the ticker of every product and status.
func checkSubscriptions(t *testing.T, p *page, product string) {
	t.Helper()
	p.waitFor(wait, "subscribed to "+product, fmt.Sprintf(
		`(s => ['level2', 'matches', 'heartbeat'].every(n => { const c = s.find(c => c.name === n); return c && c.product_ids.join() === %q; }))(__tickerfan.subscriptions)`,
		product), `__tickerfan.subscriptions`)
	var all []string
	for _, fp := range model.DefaultProducts() {
		all = append(all, fp.ID)
	}
	want := map[string][]string{
		"heartbeat": {product}, "status": {}, "ticker": all, "level2": {product}, "matches": {product},
	}
	got := eval[[]subscription](p, `__tickerfan.subscriptions`)
	if len(got) != len(want) {
		t.Fatalf("subscriptions = %+v, want the channels %v", got, want)
	}
	for _, s := range got {
		w, ok := want[s.Name]
		if !ok || !slices.Equal(s.ProductIDs, w) {
			t.Errorf("subscription %s = %v, want %v", s.Name, s.ProductIDs, w)
		}
	}
	shown := eval[string](p, `document.querySelector('[data-testid=subscriptions]').textContent`)
	if !strings.Contains(shown, "level2 "+product) {
		t.Errorf("the page shows subscriptions %q, want level2 %s among them", shown, product)
	}
}

// checkTradesArrive waits for a trade newer than those shown, and checks it
// against the server's REST trades.
func checkTradesArrive(t *testing.T, p *page, tf *tickerfan, product string) {
	t.Helper()
	const ids = `[...document.querySelectorAll('[data-testid=trade]')].map(e => Number(e.dataset.tradeId))`
	before := eval[int](p, `Math.max(0, ...`+ids+`)`)
	p.waitFor(wait, "showing a new trade", fmt.Sprintf(`%s.some(id => id > %d)`, ids, before), ids)
	row := eval[map[string]string](p, `(e => ({id: e.dataset.tradeId, price: e.querySelector('[data-testid=trade-price]').textContent}))(document.querySelector('[data-testid=trade]'))`)
	var trades []struct {
		TradeID int64  `json:"trade_id"`
		Price   string `json:"price"`
	}
	tf.getJSON("/products/"+product+"/trades?limit=1000", &trades)
	for _, tr := range trades {
		if fmt.Sprint(tr.TradeID) == row["id"] {
			if tr.Price != row["price"] {
				t.Errorf("trade %s shows price %s, REST says %s", row["id"], row["price"], tr.Price)
			}
			return
		}
	}
	t.Errorf("the newest trade shown, %v, is not among the server's trades", row)
}

// shownBook is the ladder as the page drew it, with the sequence it drew.
type shownBook struct {
	Product string      `json:"product"`
	Seq     *uint64     `json:"seq"`
	Bids    [][2]string `json:"bids"`
	Asks    [][2]string `json:"asks"`
	Spread  string      `json:"spread"`
}

// readLadder reads the drawn ladder and its sequence in one evaluation, so
// no frame can come between them.
const readLadder = `(() => {
	const rows = side => [...document.querySelectorAll('[data-testid=' + side + '-level]')]
		.filter(r => !r.hidden)
		.sort((a, b) => a.dataset.level - b.dataset.level)
		.map(r => [r.querySelector('[data-testid=price]').textContent, r.querySelector('[data-testid=size]').textContent]);
	const r = __tickerfan.rendered;
	return {product: r.product, seq: r.seq, bids: rows('bid'), asks: rows('ask'),
		spread: document.querySelector('[data-testid=spread]').textContent};
})()`

// checkLadderMatchesREST stops the feed, waits until the page has drawn the
// book at the sequence REST reports, and compares every displayed level. The
// REST book is read again after the page caught up: the fan-out may still
// have been applying events when the feed stopped.
func checkLadderMatchesREST(t *testing.T, p *page, tf *tickerfan, product string) {
	t.Helper()
	tf.Quiet()
	deadline := time.Now().Add(wait)
	testwait.For(t, wait, "the page's book settled at the server's", func() (string, bool) {
		rest := tf.book(product)
		p.waitFor(time.Until(deadline), fmt.Sprintf("drawn at sequence %d", rest.Sequence), fmt.Sprintf(
			`__tickerfan.rendered.product === %q && __tickerfan.rendered.seq >= %d`, product, rest.Sequence), pageState)
		shown := eval[shownBook](p, readLadder)
		again := tf.book(product)
		if shown.Seq != nil && *shown.Seq == again.Sequence && again.Sequence == rest.Sequence {
			compareLadder(t, shown, again)
			return "", true
		}
		seq := "none"
		if shown.Seq != nil {
			seq = fmt.Sprint(*shown.Seq)
		}
		return fmt.Sprintf("the page's book at sequence %s, the server's at %d", seq, again.Sequence), false
	})
}

func productByID(id string) model.Product {
	for _, p := range model.DefaultProducts() {
		if p.ID == id {
			return p
		}
	}
	panic("unknown product " + id)
}

func compareLadder(t *testing.T, shown shownBook, rest restBook) {
	t.Helper()
	wantBids, wantAsks := levels(rest.Bids, ladderRows), levels(rest.Asks, ladderRows)
	if len(wantBids) == 0 || len(wantAsks) == 0 {
		t.Fatalf("the server's book is empty: %+v", rest)
	}
	ok := true
	if !slices.Equal(shown.Bids, wantBids) {
		ok = false
		t.Errorf("ladder bids at sequence %d:\n got %v\nwant %v", rest.Sequence, shown.Bids, wantBids)
	}
	if !slices.Equal(shown.Asks, wantAsks) {
		ok = false
		t.Errorf("ladder asks at sequence %d:\n got %v\nwant %v", rest.Sequence, shown.Asks, wantAsks)
	}
	bid, ask := decimal.RequireFromString(wantBids[0][0]), decimal.RequireFromString(wantAsks[0][0])
	if want := "Spread " + productByID(shown.Product).FormatPrice(ask.Sub(bid)) + " "; !strings.HasPrefix(shown.Spread, want) {
		t.Errorf("spread shows %q, want it to start with %q", shown.Spread, want)
	}
	if ok {
		t.Logf("ladder equals REST at sequence %d: top bid %v, top ask %v, %d levels a side",
			rest.Sequence, shown.Bids[0], shown.Asks[0], len(shown.Bids))
	}
}
