package attack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// protocolCase is one malformed input and the close code RFC 6455 asks for.
type protocolCase struct {
	name  string
	frame ws.Frame
	want  ws.StatusCode
}

func closeWithBody(p ...byte) ws.Frame { return ws.NewFrame(ws.OpClose, true, p) }

var protocolCases = []protocolCase{
	{"invalid UTF-8 text", ws.NewTextFrame([]byte("{\"type\":\"subscribe\",\"product_ids\":[\"\xff\"]}")), ws.StatusInvalidFramePayloadData},
	{"close 1005", closeWithBody(0x03, 0xed), ws.StatusProtocolError},
	{"close 999", closeWithBody(0x03, 0xe7), ws.StatusProtocolError},
	{"close 65535", closeWithBody(0xff, 0xff), ws.StatusProtocolError},
	{"1-byte close", closeWithBody(0x03), ws.StatusProtocolError},
	{"close reason not UTF-8", closeWithBody(0x03, 0xe8, 0xff), ws.StatusInvalidFramePayloadData},
}

// protocolErrors sends the malformed frames in turn, each on a new
// connection, 50 at a time, until the attack's time is up or 10×Conns
// connections were made, and checks the close code that answers each
// (issue 9, item 8).
func protocolErrors(ctx context.Context, e *env) result {
	var next atomic.Int64
	wrong := make([]atomic.Int64, len(protocolCases))
	seen := make([]atomic.Int64, len(protocolCases))
	got := make([]atomic.Int64, len(protocolCases)) // the last wrong code, per case
	spawn(ctx, min(50, e.cfg.Conns), func(ctx context.Context, _ int) {
		for ctx.Err() == nil {
			n := int(next.Add(1)) - 1
			if n >= 10*e.cfg.Conns {
				<-ctx.Done()
				return
			}
			k := n % len(protocolCases)
			code, err := closeAnswer(ctx, e.host, protocolCases[k].frame)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				code, err = 0, nil // no close frame within 5s: the input was taken
			}
			if err != nil {
				continue
			}
			seen[k].Add(1)
			if code != protocolCases[k].want {
				wrong[k].Add(1)
				got[k].Store(int64(code))
			}
		}
	})
	var r result
	for k, c := range protocolCases {
		if w := wrong[k].Load(); w > 0 {
			r.bad = true
			answer := fmt.Sprint("close ", got[k].Load())
			if got[k].Load() == 0 {
				answer = "no close in 5s"
			}
			r.notes = append(r.notes, fmt.Sprintf("%s: %s, want %d (%d of %d)", c.name, answer, c.want, w, seen[k].Load()))
		}
	}
	sort.Strings(r.notes)
	if !r.bad {
		r.notes = append(r.notes, fmt.Sprintf("all %d malformed inputs answered with the RFC 6455 close code", total(seen)))
	}
	return r
}

// closeAnswer sends f on a new connection and returns the code of the close
// frame that answers it.
func closeAnswer(ctx context.Context, host string, f ws.Frame) (ws.StatusCode, error) {
	nc, err := upgrade(ctx, host)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteFrame(nc, ws.MaskFrame(f)); err != nil {
		return 0, err
	}
	for {
		h, err := ws.ReadHeader(nc)
		if err != nil {
			return 0, err
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(nc, p); err != nil {
			return 0, err
		}
		if h.OpCode == ws.OpClose {
			if len(p) < 2 {
				return ws.StatusNoStatusRcvd, nil
			}
			return ws.StatusCode(uint16(p[0])<<8 | uint16(p[1])), nil
		}
	}
}

// churn has Conns/2 clients subscribe to level2 and unsubscribe about five
// times a second each (10 messages, under the default limit of 20), reading
// everything (issue 9, item 10).
func churn(ctx context.Context, e *env) result {
	var cycles, received atomic.Int64
	clients := max(1, e.cfg.Conns/2)
	start := time.Now()
	spawn(ctx, clients, func(ctx context.Context, _ int) {
		nc, err := upgrade(ctx, e.host)
		if err != nil {
			return
		}
		defer nc.Close()
		sub := fmt.Sprintf(`{"type":"subscribe","product_ids":[%q],"channels":["level2"]}`, e.cfg.Product)
		unsub := fmt.Sprintf(`{"type":"unsubscribe","product_ids":[%q],"channels":["level2"]}`, e.cfg.Product)
		for ctx.Err() == nil {
			if !roundTrip(nc, sub, "snapshot", &received) || !roundTrip(nc, unsub, "subscriptions", &received) {
				return
			}
			cycles.Add(1)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	secs := time.Since(start).Seconds()
	mb := float64(received.Load()) / (1 << 20)
	return result{notes: []string{fmt.Sprintf("%d clients, %d resubscribes, %.1f MiB received (%.1f MiB/s, %.0f KiB per resubscribe)",
		clients, cycles.Load(), mb, mb/secs, 1024*mb/float64(max(1, cycles.Load())))}}
}

// roundTrip sends msg and reads until a message of type typ, counting bytes.
func roundTrip(nc net.Conn, msg, typ string, received *atomic.Int64) bool {
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := wsutil.WriteClientText(nc, []byte(msg)); err != nil {
		return false
	}
	want := []byte(`"type":"` + typ + `"`)
	for {
		data, err := wsutil.ReadServerText(nc)
		if err != nil {
			return false
		}
		received.Add(int64(len(data)))
		if bytes.Contains(data, want) {
			return true
		}
	}
}

func total(counts []atomic.Int64) int64 {
	var n int64
	for i := range counts {
		n += counts[i].Load()
	}
	return n
}
