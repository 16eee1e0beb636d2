package dashboard

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/tftest"
)

// tickerfan is an in-process tickerfan (internal/tftest) serving the
// dashboard, and the test that runs it.
type tickerfan struct {
	*tftest.Server
	t *testing.T
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
	routes := func(srv *fanout.Server) {
		h := Handler()
		srv.Handle("GET /{$}", h)
		srv.Handle("GET "+AssetPrefix, h)
	}
	return &tickerfan{Server: tftest.Start(t, tftest.Options{Addr: addr, Server: cfg, Sim: simCfg, Simulated: simulated, Routes: routes}), t: t}
}

// url is the dashboard's address.
func (tf *tickerfan) url() string { return "http://" + tf.Addr + "/" }

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
	resp, err := c.Get("http://" + tf.Addr + path)
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
