package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// tickerfan is an in-process tickerfan as cmd/tickerfan wires it: the
// simulator feeds a book.Market, which publishes to a fanout.Server that also
// serves the dashboard, on a real listener.
type tickerfan struct {
	t        *testing.T
	addr     string
	srv      *fanout.Server
	served   chan struct{}
	stopOnce sync.Once
	stopFeed context.CancelFunc
	feedDone chan struct{}
	downOnce sync.Once
}

// startTickerfan starts a server on addr ("127.0.0.1:0" for any port; the
// address of a server that was just shut down to restart it there).
func startTickerfan(t *testing.T, addr string, simCfg sim.Config) *tickerfan {
	t.Helper()
	return startTickerfanSim(t, addr, simCfg, nil)
}

// startTickerfanSim is startTickerfan with the simulator driving only the
// products named in simulated (every product when it is empty): a fast feed
// for one product without the cost of all.
func startTickerfanSim(t *testing.T, addr string, simCfg sim.Config, simulated []string) *tickerfan {
	t.Helper()
	return startTickerfanWith(t, addr, fanout.Config{StatusInterval: time.Second}, simCfg, simulated)
}

// startTickerfanWith is startTickerfanSim with the server's configuration.
func startTickerfanWith(t *testing.T, addr string, cfg fanout.Config, simCfg sim.Config, simulated []string) *tickerfan {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	products := model.DefaultProducts()
	simProducts := products
	if len(simulated) > 0 {
		simProducts = nil
		for _, p := range products {
			if slices.Contains(simulated, p.ID) {
				simProducts = append(simProducts, p)
			}
		}
	}
	srv, err := fanout.New(cfg, products, log)
	if err != nil {
		t.Fatalf("fanout.New: %v", err)
	}
	h := Handler()
	srv.Handle("GET /{$}", h)
	srv.Handle("GET "+AssetPrefix, h)
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, log)
	if err != nil {
		t.Fatalf("book.NewMarket: %v", err)
	}
	if simCfg.Tick == 0 {
		simCfg.Tick = 10 * time.Millisecond
	}
	src, err := sim.New("sim", simCfg, simProducts)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	ln := listen(t, addr)
	tf := &tickerfan{t: t, addr: ln.Addr().String(), srv: srv, served: make(chan struct{}), feedDone: make(chan struct{})}
	go func() {
		defer close(tf.served)
		srv.Serve(ln)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	tf.stopFeed = cancel
	go func() {
		defer close(tf.feedDone)
		src.Run(ctx, market.Apply)
	}()
	t.Cleanup(tf.shutdown)
	return tf
}

// listen listens on addr, retrying for a while when a just-closed listener
// still holds the port.
func listen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	testwait.For(t, 5*time.Second, "listen "+addr, func() (string, bool) {
		var err error
		if ln, err = net.Listen("tcp", addr); err == nil {
			return "", true
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("listen %s: %v", addr, err)
		}
		return err.Error(), false
	})
	return ln
}

// url is the dashboard's address.
func (tf *tickerfan) url() string { return "http://" + tf.addr + "/" }

// stopSimulator stops the feed and waits for it: from then on the books
// change no more (the fan-out may still be applying what was published).
func (tf *tickerfan) stopSimulator() {
	tf.stopOnce.Do(func() {
		tf.stopFeed()
		<-tf.feedDone
	})
}

// shutdown stops the feed and the server, closing every connection with 1001.
func (tf *tickerfan) shutdown() {
	tf.downOnce.Do(func() {
		tf.stopSimulator()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tf.srv.Shutdown(ctx)
		<-tf.served
	})
}

// restBook is GET /products/{id}/book?level=2.
type restBook struct {
	Bids     [][]any `json:"bids"`
	Asks     [][]any `json:"asks"`
	Sequence uint64  `json:"sequence"`
}

// levels returns the first n levels of a side as [price, size] strings.
func levels(side [][]any, n int) [][2]string {
	var out [][2]string
	for i, l := range side {
		if i == n {
			break
		}
		price, _ := l[0].(string)
		size, _ := l[1].(string)
		out = append(out, [2]string{price, size})
	}
	return out
}

func (tf *tickerfan) book(product string) restBook {
	tf.t.Helper()
	var b restBook
	tf.getJSON("/products/"+product+"/book?level=2", &b)
	return b
}

func (tf *tickerfan) getJSON(path string, v any) {
	tf.t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + tf.addr + path)
	if err != nil {
		tf.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tf.t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tf.t.Fatalf("GET %s: %v", path, err)
	}
}
