package attack

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// attack is one replayed attack. run holds its connections until ctx is
// done, closes them and reports what it saw.
type attack struct {
	name string
	run  func(ctx context.Context, e *env) result
}

// result is an attack's own findings; bad marks a check that failed.
type result struct {
	notes []string
	bad   bool
}

// attacks are issue 9's attacks, in the order they run.
var attacks = []attack{
	{"rest-flood", restFlood},
	{"slowloris", slowloris},
	{"half-frame", halfFrame},
	{"oversize-subscribe", oversizeSubscribe},
	{"connect-flood", connectFlood},
	{"protocol", protocolErrors},
	{"churn", churn},
}

// Names lists the attacks in the order they run.
func Names() []string {
	var out []string
	for _, a := range attacks {
		out = append(out, a.name)
	}
	return out
}

// spawn runs fn(ctx, i) for i in [0, n) concurrently and waits for all.
func spawn(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}

// idleUntilDone waits, reading nothing useful, until ctx's deadline or the
// server closes nc; it reports whether the server closed it first.
func idleUntilDone(ctx context.Context, nc net.Conn) bool {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(time.Minute)
	}
	nc.SetReadDeadline(dl)
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	return !(ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()))
}

// trickle writes p one byte per interval until ctx is done or the server
// closes the connection, and reports whether the server closed it first.
func trickle(ctx context.Context, nc net.Conn, p []byte, interval time.Duration) bool {
	t := time.NewTicker(interval)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(p) {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(p[i : i+1]); err != nil {
			return true
		}
	}
}

func dialTCP(ctx context.Context, host string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", host)
}

// restFlood holds idle keep-alive HTTP connections after one REST request
// each (issue 9, item 3).
func restFlood(ctx context.Context, e *env) result {
	var opened, answered, closed atomic.Int64
	spawn(ctx, e.cfg.Conns, func(ctx context.Context, _ int) {
		nc, err := dialTCP(ctx, e.host)
		if err != nil {
			return
		}
		defer nc.Close()
		opened.Add(1)
		fmt.Fprintf(nc, "GET /time HTTP/1.1\r\nHost: %s\r\n\r\n", e.host)
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(nc), nil); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answered.Add(1)
		}
		if idleUntilDone(ctx, nc) {
			closed.Add(1)
		}
	})
	return result{notes: []string{fmt.Sprintf("%d/%d connected, %d answered, %d closed by the server before the end",
		opened.Load(), e.cfg.Conns, answered.Load(), closed.Load())}}
}

// slowloris trickles half an upgrade request (issue 9, item 4).
func slowloris(ctx context.Context, e *env) result {
	var opened, closed atomic.Int64
	spawn(ctx, e.cfg.Conns, func(ctx context.Context, _ int) {
		nc, err := dialTCP(ctx, e.host)
		if err != nil {
			return
		}
		defer nc.Close()
		opened.Add(1)
		fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n", e.host)
		if trickle(ctx, nc, []byte("X-Slow: aaaaaaaaaaaaaaaa\r\n"), e.cfg.Trickle) {
			closed.Add(1)
		}
	})
	return result{notes: []string{fmt.Sprintf("%d/%d half upgrades trickled, %d cut by the server", opened.Load(), e.cfg.Conns, closed.Load())}}
}

// halfFrame subscribes, then sends the header of a 60,000-byte frame and
// trickles its payload (issue 9, item 5).
func halfFrame(ctx context.Context, e *env) result {
	var opened, closed atomic.Int64
	spawn(ctx, e.cfg.Conns, func(ctx context.Context, _ int) {
		nc, err := upgrade(ctx, e.host)
		if err != nil {
			return
		}
		defer nc.Close()
		opened.Add(1)
		sub := fmt.Sprintf(`{"type":"subscribe","product_ids":[%q],"channels":["heartbeat"]}`, e.cfg.Product)
		wsutil.WriteClientText(nc, []byte(sub))
		hdr := []byte{0x81, 0x80 | 126, 0, 0, 1, 2, 3, 4, 'x'}
		binary.BigEndian.PutUint16(hdr[2:], 60000)
		nc.Write(hdr)
		if trickle(ctx, nc, []byte("y"), e.cfg.Trickle) {
			closed.Add(1)
		}
	})
	return result{notes: []string{fmt.Sprintf("%d/%d upgraded and holding half a frame, %d cut by the server", opened.Load(), e.cfg.Conns, closed.Load())}}
}

// The oversize-subscribe attack's bounds: the 300 clients at most,
// each sending 20 subscribes (within the default burst), 1.2 MB each.
const (
	oversizeConns = 300
	oversizeSends = 20
)

// oversizeSubscribe sends subscribes naming a 60 KB unknown product and
// reads nothing (issue 9, items 1 and 2).
func oversizeSubscribe(ctx context.Context, e *env) result {
	var opened, sent, closed atomic.Int64
	id := strings.Repeat("X", 60000)
	msg := []byte(`{"type":"subscribe","product_ids":["` + id + `"],"channels":["ticker"]}`)
	conns := min(e.cfg.Conns, oversizeConns)
	spawn(ctx, conns, func(ctx context.Context, _ int) {
		nc, err := upgrade(ctx, e.host)
		if err != nil {
			return
		}
		defer nc.Close()
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096) // a slow reader
		}
		opened.Add(1)
		for i := 0; i < oversizeSends && ctx.Err() == nil; i++ {
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := wsutil.WriteClientText(nc, msg); err != nil {
				closed.Add(1)
				return
			}
			sent.Add(1)
		}
		<-ctx.Done()
	})
	return result{notes: []string{fmt.Sprintf("%d/%d upgraded, %d subscribes of a 60 KB id sent unread, %d cut by the server",
		opened.Load(), conns, sent.Load(), closed.Load())}}
}

// connectFlood upgrades Conns connections at once and holds them (issue 9,
// item 6): with MaxConnections set, more than it (with the canary) is a failed check.
func connectFlood(ctx context.Context, e *env) result {
	var upgraded, refused, failed atomic.Int64
	var mu sync.Mutex
	var conns []net.Conn
	spawn(ctx, e.cfg.Conns, func(ctx context.Context, _ int) {
		nc, err := upgrade(ctx, e.host)
		var se ws.StatusError
		switch {
		case err == nil:
			upgraded.Add(1)
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
		case errors.As(err, &se) && int(se) == http.StatusServiceUnavailable:
			refused.Add(1)
		default:
			failed.Add(1)
		}
	})
	<-ctx.Done()
	for _, nc := range conns {
		nc.Close()
	}
	r := result{notes: []string{fmt.Sprintf("%d upgraded, %d refused 503, %d failed otherwise", upgraded.Load(), refused.Load(), failed.Load())}}
	if max := e.cfg.MaxConnections; max > 0 {
		if held := int(upgraded.Load()) + 1; held > max {
			r.bad = true
			r.notes = append(r.notes, fmt.Sprintf("%d open with the canary, over max_connections %d", held, max))
		} else if e.cfg.Conns < max {
			r.notes = append(r.notes, fmt.Sprintf("the limit %d was not reached: raise -conns", max))
		}
	}
	return r
}
