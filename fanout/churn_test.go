package fanout

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// churnClient subscribes and unsubscribes at random while data flows, and
// checks every message against the protocol's guarantees in the order the
// server sent them.
type churnClient struct {
	c        *client
	l2       string // the one level2 stream this client uses: level2 or level2_batch
	books    map[string]*clientBook
	subbed   map[string]bool // products of l2, per the last subscriptions reply
	tickSeq  map[string]float64
	problems []string
}

func (cc *churnClient) fail(format string, args ...any) {
	cc.problems = append(cc.problems, fmt.Sprintf(format, args...))
}

// handle checks one message.
func (cc *churnClient) handle(t *testing.T, raw []byte) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		cc.fail("not JSON: %s", raw)
		return
	}
	id, _ := m["product_id"].(string)
	switch m["type"] {
	case "subscriptions":
		now := map[string]bool{}
		for _, ch := range m["channels"].([]any) {
			ch := ch.(map[string]any)
			if ch["name"] == cc.l2 {
				for _, p := range ch["product_ids"].([]any) {
					now[p.(string)] = true
				}
			}
		}
		for p := range cc.subbed {
			if !now[p] {
				delete(cc.books, p)
			}
		}
		for p := range now {
			if !cc.subbed[p] {
				delete(cc.books, p) // a snapshot must come before any update
			}
		}
		cc.subbed = now
	case "snapshot":
		if !cc.subbed[id] {
			cc.fail("snapshot of %s while not subscribed", id)
			return
		}
		cb := &clientBook{}
		cb.snapshot(t, m)
		cc.books[id] = cb
	case "l2update":
		cb := cc.books[id]
		switch {
		case !cc.subbed[id]:
			cc.fail("l2update of %s after the reply that unsubscribed it", id)
		case cb == nil:
			cc.fail("l2update of %s before its snapshot", id)
		default:
			cc.applyUpdate(cb, m)
		}
	case "ticker":
		seq := m["sequence"].(float64)
		if seq < cc.tickSeq[id] {
			cc.fail("ticker %s sequence went back from %v to %v", id, cc.tickSeq[id], seq)
		}
		cc.tickSeq[id] = seq
	case "error":
		cc.fail("error reply: %v", m)
	}
}

func (cc *churnClient) applyUpdate(cb *clientBook, m map[string]any) {
	if err := cb.apply(m); err != nil {
		cc.fail("%v", err)
	}
}

// The subscription index, conflation and unsubscribe hold under churn: 40
// clients change their subscriptions at random for 3 s while 3 products
// update at 300 changes/s each.
func TestSubscriptionChurn(t *testing.T) {
	products := []string{"BTC-USD", "ETH-USD", "SOL-USD"}
	ts := startServer(t, Config{MessagesPerSecond: 1000, MessageBurst: 1000}, simOpts{updates: 300, trades: 30, products: products})
	const clients = 40
	ccs := make([]*churnClient, clients)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range ccs {
		l2 := "level2"
		if i%2 == 1 {
			l2 = "level2_batch"
		}
		cc := &churnClient{c: dial(t, ts.addr), l2: l2, books: map[string]*clientBook{}, subbed: map[string]bool{}, tickSeq: map[string]float64{}}
		ccs[i] = cc
		wg.Add(2)
		go func() { defer wg.Done(); cc.readLoop(t) }()
		go func(seed uint64) { defer wg.Done(); cc.churn(seed, products, stop) }(uint64(i))
	}
	<-time.After(3 * time.Second) // the length of the churn, not a wait for a condition
	close(stop)
	ts.stop() // the feed is quiet: every client's books must now equal the server's
	for _, cc := range ccs {
		cc.c.nc.SetReadDeadline(time.Now().Add(1300 * time.Millisecond)) // ends readLoop once drained
	}
	wg.Wait()
	rest := map[string]string{}
	for _, p := range products {
		var b struct{ Bids, Asks [][]any }
		getJSON(t, "http://"+ts.addr+"/products/"+p+"/book?level=2", &b)
		rest[p] = fmtRest(b.Bids) + "|" + fmtRest(b.Asks)
	}
	checked := 0
	for i, cc := range ccs {
		for _, p := range cc.problems {
			t.Errorf("client %d (%s): %s", i, cc.l2, p)
		}
		for p, cb := range cc.books {
			bids, asks := cb.b.Top(0, nil, nil)
			if got := fmtLevels(bids) + "|" + fmtLevels(asks); got != rest[p] {
				t.Errorf("client %d (%s): %s book differs from the server's", i, cc.l2, p)
			}
			checked++
		}
	}
	if checked < clients/2 {
		t.Fatalf("only %d books checked at the end; the churn left too few subscriptions to mean anything", checked)
	}
}

func (cc *churnClient) readLoop(t *testing.T) {
	for {
		data, err := wsutil.ReadServerText(cc.c.nc)
		if err != nil {
			return
		}
		cc.handle(t, data)
	}
}

// churn sends random subscribes and unsubscribes until stop, then one last
// subscribe so that most clients end with books to compare.
func (cc *churnClient) churn(seed uint64, products []string, stop <-chan struct{}) {
	r := rand.New(rand.NewPCG(seed, 99))
	send := func(typ string, ids []string) {
		msg := fmt.Sprintf(`{"type":%q,"product_ids":["%s"],"channels":[%q,"ticker"]}`, typ, strings.Join(ids, `","`), cc.l2)
		wsutil.WriteClientText(cc.c.nc, []byte(msg))
	}
	for {
		select {
		case <-stop:
			send("subscribe", products)
			return
		case <-time.After(time.Duration(20+r.IntN(80)) * time.Millisecond):
		}
		var ids []string
		for _, p := range products {
			if r.IntN(2) == 0 {
				ids = append(ids, p)
			}
		}
		if len(ids) == 0 {
			ids = products[:1]
		}
		typ := "subscribe"
		if r.IntN(3) == 0 {
			typ = "unsubscribe"
		}
		send(typ, ids)
	}
}
