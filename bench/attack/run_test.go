package attack

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/model"
)

// startTickerfan runs a real server fed by the simulator on 127.0.0.1.
func startTickerfan(t *testing.T) string {
	t.Helper()
	products := model.DefaultProducts()[:2]
	srv, err := fanout.New(fanout.Config{}, products, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	feed, err := sim.New("sim", sim.Config{Seed: 3, UpdatesPerSecond: 50, TradesPerSecond: 1, Tick: 5 * time.Millisecond}, products)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Run(ctx, market.Apply)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Shutdown(context.Background())
	})
	return ln.Addr().String()
}

// The suite end to end at a tiny scale: the protocol attack finds every
// close code right and the canary stays exact through it and the churn.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs attacks for seconds")
	}
	host := startTickerfan(t)
	outs, err := Run(context.Background(), Config{
		Target: "ws://" + host + "/", Duration: time.Second, Conns: 12, Only: []string{"protocol", "churn"},
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Attack != "protocol" || outs[1].Attack != "churn" {
		t.Fatalf("outcomes %+v, want protocol and churn", outs)
	}
	for _, o := range outs {
		if o.Verdict == Failed || !strings.HasPrefix(o.Canary, "exact") {
			t.Errorf("%s: %s, canary %q", o.Attack, o.Verdict, o.Canary)
		}
	}
	if p := outs[0]; p.AttackFail || !strings.HasPrefix(strings.Join(p.Notes, ""), "all ") {
		t.Errorf("protocol: %v", p.Notes)
	}
}
