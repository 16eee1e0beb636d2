package fanout

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/internal/wsframe"
	"github.com/tickerfan/tickerfan/model"
)

// FuzzClientBytes sends arbitrary bytes, in chunks, as a client's side of a
// real connection to a real server, after the upgrade: frame parsing, message
// joining, JSON decoding and the subscribe logic all run. Whatever the input,
// every text message the server sends must be JSON, any close code it sends
// must be one a peer may send, and the server must end the connection once
// the client stops writing.
func FuzzClientBytes(f *testing.F) {
	addr, _ := startBareServer(f)
	mask := func(op ws.OpCode, fin bool, p string) []byte {
		b, err := ws.CompileFrame(ws.MaskFrame(ws.NewFrame(op, fin, []byte(p))))
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	seeds, _ := filepath.Glob("testdata/requests/*.json")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(mask(ws.OpText, true, string(data)), uint8(7))
	}
	f.Add(mask(ws.OpText, true, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2","ticker","matches","heartbeat","status"]}`), uint8(3))
	f.Add(append(mask(ws.OpText, false, `{"type":"subscribe","product_ids":["A\u0007B`), mask(ws.OpContinuation, true, `"],"channels":["ticker"]}`)...), uint8(5))
	f.Add(mask(ws.OpText, true, "\xff"), uint8(1))
	f.Add(mask(ws.OpClose, true, "\x03\xe7"), uint8(2))
	f.Add(mask(ws.OpPing, true, "hi"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		nc, rd := dialFuzz(t, addr)
		defer nc.Close()
		n := int(chunk)%64 + 1
		for len(data) > 0 {
			k := min(n, len(data))
			if _, err := nc.Write(data[:k]); err != nil {
				break // the server closed already
			}
			data = data[k:]
		}
		nc.(*net.TCPConn).CloseWrite()
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			h, err := ws.ReadHeader(rd)
			if err == io.EOF || isReset(err) {
				return
			}
			if err != nil {
				t.Fatalf("server did not end the connection: %v", err)
			}
			payload := make([]byte, h.Length)
			if _, err := io.ReadFull(rd, payload); err != nil {
				return
			}
			switch h.OpCode {
			case ws.OpText:
				if !json.Valid(payload) {
					t.Fatalf("server sent invalid JSON: %q", payload)
				}
			case ws.OpClose:
				if code, _, err := wsframe.CheckClose(payload); err != nil || code == ws.StatusNoStatusRcvd {
					t.Fatalf("server closed with %q: %v", payload, err)
				}
			}
		}
	})
}

// isReset reports a connection the server reset rather than closed.
func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// startBareServer runs a server without a feed, for a test to drive its
// market; the BTC-USD book holds a snapshot so subscribes get one. A fuzz
// target shares it among all its inputs.
func startBareServer(f testing.TB) (string, *book.Market) {
	f.Helper()
	products := model.DefaultProducts()
	srv, err := New(Config{MessagesPerSecond: 1000, MessageBurst: 1000}, products, zap.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, zap.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	lv := func(p string) []model.Level {
		return []model.Level{{Price: decimal.RequireFromString(p), Size: decimal.New(1, 0)}}
	}
	market.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Bids: lv("100"), Asks: lv("101"), Time: time.Now()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go srv.Serve(ln)
	f.Cleanup(func() { srv.Shutdown(context.Background()) })
	return ln.Addr().String(), market
}

// dialFuzz upgrades a connection and returns it with the reader that holds
// whatever the server sent with its handshake reply.
func dialFuzz(t *testing.T, addr string) (net.Conn, io.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, br, _, err := ws.Dialer{}.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if br == nil {
		return nc, nc
	}
	return nc, io.MultiReader(br, nc)
}
