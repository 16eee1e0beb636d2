package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// newTestConn is a conn of a swarm with no sockets, for feeding bytes to
// its frame and message handling.
func newTestConn(products ...string) (*conn, *tally) {
	sw := &Swarm{
		cfg: Profile{MaxMessageBytes: 1 << 16}, products: products, index: map[string]int32{},
		closes: map[string]int64{}, samples: map[string][]string{}, connectErrs: map[string]int64{},
	}
	idx := make([]int32, len(products))
	for i, id := range products {
		sw.index[id] = int32(i)
		idx[i] = int32(i)
	}
	r := newReader(sw)
	c := &conn{sw: sw, r: r, products: idx, streams: make([]stream, len(products)*numStreams)}
	return c, r.tallies[groupNormal]
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// streamCases drive TestSequenceAccounting: each is a series of messages
// on one product and what the level-2 accounting must say of them.
var streamCases = []struct {
	name       string
	msgs       []string // %s is a current time stamp
	l2         l2Tally  // Expected is left to the caller (delivered + missing)
	outOfOrder int64
	latencies  int64 // messages that count for latency
}{
	{"in order", []string{
		`{"type":"snapshot","product_id":"A","sequence":10}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":11}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":12}`,
	}, l2Tally{Delivered: 3}, 0, 2},
	{"gap", []string{
		`{"type":"snapshot","product_id":"A","sequence":1}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":2}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":5}`,
	}, l2Tally{Delivered: 3, Gaps: 1, GapMessages: 2}, 0, 2},
	{"out of order", []string{
		`{"type":"l2update","product_id":"A","time":"%s","sequence":7}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":6}`,
	}, l2Tally{Delivered: 2, OutOfOrder: 1}, 0, 2},
	{"resync snapshot after conflation", []string{
		`{"type":"snapshot","product_id":"A","sequence":1}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":2}`,
		`{"type":"snapshot","product_id":"A","sequence":9}`,
		`{"type":"l2update","product_id":"A","time":"%s","sequence":10}`,
	}, l2Tally{Delivered: 4, Conflated: 6, Resyncs: 1}, 0, 2},
	{"ticker state then news, match order", []string{
		`{"type":"ticker","product_id":"A","time":"%s","sequence":100}`,
		`{"type":"ticker","product_id":"A","time":"%s","sequence":100}`,
		`{"type":"ticker","product_id":"A","time":"%s","sequence":105}`,
		`{"type":"last_match","product_id":"A","time":"%s","sequence":99}`,
		`{"type":"match","product_id":"A","time":"%s","sequence":105}`,
		`{"type":"match","product_id":"A","time":"%s","sequence":104}`,
		`{"type":"heartbeat","product_id":"A","time":"%s","sequence":106}`,
		`{"type":"heartbeat","product_id":"A","time":"%s","sequence":106}`,
	}, l2Tally{}, 1, 4},
	{"unknown product and other types", []string{
		`{"type":"l2update","product_id":"Z","time":"%s","sequence":1}`,
		`{"type":"status","products":[]}`,
	}, l2Tally{}, 0, 0},
}

func TestSequenceAccounting(t *testing.T) {
	for _, tc := range streamCases {
		t.Run(tc.name, func(t *testing.T) {
			c, tl := newTestConn("A")
			var live liveStats
			for _, m := range tc.msgs {
				if countVerbs(m) > 0 {
					m = fmt.Sprintf(m, stamp(time.Now()))
				}
				c.in.Append(appendFrame(nil, ws.OpText, []byte(m)))
			}
			if err := c.parse(tl, &live, time.Now().UnixNano()); err != nil {
				t.Fatal(err)
			}
			got := tl.l2
			if got != tc.l2 {
				t.Errorf("level2 tally %+v, want %+v", got, tc.l2)
			}
			if tl.outOfOrder != tc.outOfOrder {
				t.Errorf("out of order %d, want %d", tl.outOfOrder, tc.outOfOrder)
			}
			var n int64
			if tl.latAll != nil {
				n = tl.latAll.TotalCount()
			}
			if n != tc.latencies {
				t.Errorf("%d latency samples, want %d", n, tc.latencies)
			}
			if live.msgs != int64(len(tc.msgs)) {
				t.Errorf("live count %d, want %d", live.msgs, len(tc.msgs))
			}
		})
	}
}

func countVerbs(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			n++
		}
	}
	return n
}

// TestParseInChunks feeds the same frames split at every size: the messages
// counted do not depend on how the bytes arrive.
func TestParseInChunks(t *testing.T) {
	var stream []byte
	now := stamp(time.Now())
	const n = 50
	for i := range n {
		msg := fmt.Sprintf(`{"type":"l2update","product_id":"A","time":"%s","sequence":%d,"pad":"%0*d"}`, now, i+1, i*7, 0)
		stream = appendFrame(stream, ws.OpText, []byte(msg))
	}
	stream = appendFrame(stream, ws.OpPing, []byte("hi"))
	big := make([]byte, 70000) // a 64-bit length header
	for i := range big {
		big[i] = 'x'
	}
	stream = appendFrame(stream, ws.OpText, fmt.Appendf(nil, `{"type":"status","x":"%s"}`, big[:66000]))
	for _, chunk := range []int{1, 2, 3, 7, 64, 1000, len(stream)} {
		c, tl := newTestConn("A")
		c.sw.cfg.MaxMessageBytes = 1 << 20
		var live liveStats
		for off := 0; off < len(stream); off += chunk {
			c.in.Append(stream[off:min(off+chunk, len(stream))])
			if err := c.parse(tl, &live, time.Now().UnixNano()); err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
		}
		if tl.msgs[kindL2Update] != n || tl.l2.Gaps != 0 || tl.msgs[kindOther] != 1 {
			t.Fatalf("chunk %d: %d l2updates, %d gaps, %d other; want %d, 0, 1",
				chunk, tl.msgs[kindL2Update], tl.l2.Gaps, tl.msgs[kindOther], n)
		}
		if c.pong == nil || len(c.in.Bytes()) != 0 {
			t.Fatalf("chunk %d: pong %q, %d bytes left over", chunk, c.pong, len(c.in.Bytes()))
		}
	}
}

func TestFrameErrors(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"masked", []byte{0x81, 0x81, 1, 2, 3, 4, 'x'}, ErrFrame},
		{"reserved bits", []byte{0xC1, 0x01, 'x'}, ErrFrame},
		{"reserved opcode", []byte{0x83, 0x00}, ErrFrame},
		{"fragmented ping", []byte{0x09, 0x00}, ErrFrame},
		{"too big", []byte{0x81, 127, 0, 0, 0, 0, 0, 2, 0, 0}, ErrTooBig},
	}
	for _, tc := range cases {
		c, tl := newTestConn("A")
		c.in.Append(tc.b)
		var live liveStats
		if err := c.parse(tl, &live, 0); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	c, tl := newTestConn("A")
	c.in.Append(appendFrame(nil, ws.OpClose, ws.NewCloseFrameBody(1008, "slow consumer")))
	var live liveStats
	err := c.parse(tl, &live, 0)
	sc, ok := err.(*serverClose)
	if !ok || sc.code != 1008 || sc.reason != "slow consumer" {
		t.Fatalf("close frame: %v, want 1008 slow consumer", err)
	}
}

// FuzzParse feeds arbitrary bytes, in arbitrary chunks, to the frame and
// message handling: it must never panic nor keep more than a frame's worth.
func FuzzParse(f *testing.F) {
	f.Add(appendFrame(nil, ws.OpText, []byte(scanCases[0].msg)), uint8(3))
	f.Add(appendFrame(appendFrame(nil, ws.OpPing, nil), ws.OpText, []byte(`{"type":"snapshot","product_id":"A","sequence":1}`)), uint8(1))
	f.Add([]byte{0x01, 0x03, '{', '}', ' ', 0x80, 0x00}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, seed uint8) {
		c, tl := newTestConn("A", "BTC-USD")
		var live liveStats
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		for off := 0; off < len(data); {
			n := 1 + rng.IntN(16)
			end := min(off+n, len(data))
			c.in.Append(data[off:end])
			off = end
			if err := c.parse(tl, &live, time.Now().UnixNano()); err != nil {
				return
			}
			if len(c.in.Bytes()) > 1<<16+14 {
				t.Fatalf("kept %d bytes", len(c.in.Bytes()))
			}
		}
	})
}
