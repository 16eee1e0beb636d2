package fanout

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

var testProducts = map[string]int{"BTC-USD": 0, "ETH-USD": 1, "ETH-BTC": 2}

func TestParseRequest(t *testing.T) {
	cases := []struct {
		name    string
		msg     string
		want    map[int]channelMask
		status  bool
		dropAll channelMask
		reason  string
	}{
		{
			name: "string and object channels",
			msg:  `{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2_batch","heartbeat",{"name":"ticker","product_ids":["ETH-BTC"]}]}`,
			want: map[int]channelMask{
				0: maskOf(chLevel2Batch) | maskOf(chHeartbeat),
				1: maskOf(chLevel2Batch) | maskOf(chHeartbeat),
				2: maskOf(chTicker),
			},
		},
		{
			name:   "alias and status",
			msg:    `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2_50","status"]}`,
			want:   map[int]channelMask{0: maskOf(chLevel2Batch)},
			status: true,
		},
		{
			name:    "unsubscribe whole channel",
			msg:     `{"type":"unsubscribe","channels":["heartbeat"]}`,
			want:    map[int]channelMask{},
			dropAll: maskOf(chHeartbeat),
		},
		{
			name: "null product ids, object channel",
			msg:  `{"type":"subscribe","product_ids":null,"channels":[{"name":"matches","product_ids":["ETH-USD"]}],"timestamp":"17"}`,
			want: map[int]channelMask{1: maskOf(chMatches)},
		},
		{
			name:   "subscribe without products",
			msg:    `{"type":"subscribe","channels":["ticker"]}`,
			reason: "ticker requires product_ids",
		},
		{
			name:   "unknown product in object",
			msg:    `{"type":"subscribe","channels":[{"name":"ticker","product_ids":["X-Y"]}]}`,
			reason: "X-Y is not a valid product",
		},
		{
			name:   "channel of wrong type",
			msg:    `{"type":"subscribe","product_ids":["BTC-USD"],"channels":[42]}`,
			reason: `a channel must be a name or {"name":...,"product_ids":[...]}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := parseRequest([]byte(tc.msg), testProducts)
			if tc.reason != "" {
				var re *requestError
				if !errors.As(err, &re) || re.reason != tc.reason {
					t.Fatalf("got %v, want reason %q", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if len(req.want) != len(tc.want) {
				t.Fatalf("want %v, got %v", tc.want, req.want)
			}
			for p, m := range tc.want {
				if req.want[p] != m {
					t.Fatalf("product %d: got %08b, want %08b", p, req.want[p], m)
				}
			}
			if req.status != tc.status || req.dropAll != tc.dropAll {
				t.Fatalf("status %v dropAll %08b, want %v %08b", req.status, req.dropAll, tc.status, tc.dropAll)
			}
		})
	}
}

// FuzzParseRequest feeds arbitrary bytes to the client-message parser: it
// must never panic, and must either fail with a requestError or return a
// request that names only known products and channels.
func FuzzParseRequest(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/requests/*.json")
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata/requests")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseRequest(data, testProducts)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.message == "" || re.reason == "" {
				t.Fatalf("error %v is not a complete requestError", err)
			}
			return
		}
		for p, m := range req.want {
			if p < 0 || p >= len(testProducts) || m == 0 || m >= 1<<numChannels || m.has(chStatus) {
				t.Fatalf("request names product %d channels %08b", p, m)
			}
		}
	})
}
