package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// scanCases drive TestScan and BenchmarkScan.
var scanCases = []struct {
	name    string
	msg     string
	typ     string
	product string
	seq     int64
	hasSeq  bool
	time    string // RFC 3339, "" when absent
}{
	{"l2update", `{"type":"l2update","product_id":"BTC-USD","changes":[["buy","43210.12","0.5"]],"time":"2026-11-21T12:00:00.123456Z","sequence":42}`,
		"l2update", "BTC-USD", 42, true, "2026-11-21T12:00:00.123456Z"},
	{"ticker", `{"type":"ticker","sequence":37475248783,"product_id":"ETH-USD","price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678","low_24h":"1280.52","high_24h":"1313.8","volume_30d":"9788783.60117027","best_bid":"1285.04","best_bid_size":"0.46688654","best_ask":"1285.27","best_ask_size":"1.56637040","side":"buy","time":"2022-10-19T23:28:22.061769Z","trade_id":370843401,"last_size":"11.4396987"}`,
		"ticker", "ETH-USD", 37475248783, true, "2022-10-19T23:28:22.061769Z"},
	{"snapshot, no time", `{"type":"snapshot","product_id":"SOL-USD","bids":[["10.01","1"]],"asks":[["10.02","2"]],"sequence":7}`,
		"snapshot", "SOL-USD", 7, true, ""},
	{"whitespace and nesting", " {\n \"changes\" : [[\"sell\",\"1\",\"0\"], {\"time\":\"x\",\"type\":\"nested\"}] ,\t\"type\" : \"l2update\" , \"time\" : \"2026-01-01T00:00:00Z\" }",
		"l2update", "", 0, false, "2026-01-01T00:00:00Z"},
	{"escaped strings skipped", `{"reason":"a \"quoted\" } ] value","type":"error","message":"x\\"}`, "error", "", 0, false, ""},
	{"null sequence", `{"type":"heartbeat","sequence":null,"product_id":"BTC-USD"}`, "heartbeat", "BTC-USD", 0, false, ""},
	{"negative and offset time", `{"type":"x","sequence":-5,"time":"2026-11-21T13:00:00.5+01:00"}`, "x", "", -5, true, "2026-11-21T12:00:00.5Z"},
	{"last key wins", `{"type":"a","type":"b"}`, "b", "", 0, false, ""},
	{"empty object", `{}`, "", "", 0, false, ""},
}

func TestScan(t *testing.T) {
	for _, tc := range scanCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Scan([]byte(tc.msg))
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if string(f.Type) != tc.typ || string(f.Product) != tc.product || f.Seq != tc.seq || f.HasSeq != tc.hasSeq {
				t.Fatalf("got type %q product %q seq %d/%v; want %q %q %d/%v",
					f.Type, f.Product, f.Seq, f.HasSeq, tc.typ, tc.product, tc.seq, tc.hasSeq)
			}
			var want int64
			if tc.time != "" {
				tm, err := time.Parse(time.RFC3339Nano, tc.time)
				if err != nil {
					t.Fatal(err)
				}
				want = tm.UnixNano()
			}
			if f.Time != want {
				t.Fatalf("time %d, want %d", f.Time, want)
			}
		})
	}
}

func TestScanRejectsMalformed(t *testing.T) {
	for _, msg := range []string{``, `[]`, `{"type"}`, `{"type":"x"`, `{"type":"x",}`, `{"a":[1,2}`, `{"a":"unterminated}`, `{"a":}`, `{"a":1 "b":2}`} {
		if _, err := Scan([]byte(msg)); err != ErrMalformed {
			t.Errorf("Scan(%q) = %v, want ErrMalformed", msg, err)
		}
	}
}

func TestParseTimeMatchesTimeParse(t *testing.T) {
	for _, s := range []string{
		"2026-11-21T12:00:00.123456Z", "2024-02-29T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59.5Z", "2000-03-01T00:00:00.1Z", "0001-01-01T00:00:00Z", "2100-02-28T01:02:03.000001Z",
	} {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := ParseTime([]byte(s)); got != tm.UnixNano() {
			t.Errorf("ParseTime(%s) = %d, want %d", s, got, tm.UnixNano())
		}
	}
	for _, s := range []string{"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z", "yesterday", ""} {
		if got := ParseTime([]byte(s)); got != 0 {
			t.Errorf("ParseTime(%q) = %d, want 0", s, got)
		}
	}
}

func TestScanDoesNotAllocate(t *testing.T) {
	msg := []byte(scanCases[1].msg)
	if n := testing.AllocsPerRun(100, func() { Scan(msg) }); n != 0 {
		t.Fatalf("Scan allocates %v times per message", n)
	}
}

func BenchmarkScan(b *testing.B) {
	for _, tc := range scanCases[:3] {
		b.Run(tc.name, func(b *testing.B) {
			msg := []byte(tc.msg)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				Scan(msg)
			}
		})
	}
}

// FuzzScan checks Scan against encoding/json: it never panics, and on any
// message json can decode as an object, Scan succeeds and reads the same
// type, product_id, sequence and time.
func FuzzScan(f *testing.F) {
	for _, tc := range scanCases {
		f.Add([]byte(tc.msg))
	}
	seeds, _ := filepath.Glob("testdata/messages/*.json")
	for _, path := range seeds {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := Scan(msg)
		var obj map[string]json.RawMessage
		if json.Unmarshal(msg, &obj) != nil || obj == nil {
			return
		}
		if err != nil {
			t.Fatalf("Scan failed on valid JSON %q: %v", msg, err)
		}
		checkString(t, "type", obj["type"], got.Type)
		checkString(t, "product_id", obj["product_id"], got.Product)
		var seq int64
		if raw, ok := obj["sequence"]; ok && isPlainInt(raw) && json.Unmarshal(raw, &seq) == nil {
			if !got.HasSeq || got.Seq != seq {
				t.Fatalf("sequence: got %d/%v, want %d in %q", got.Seq, got.HasSeq, seq, msg)
			}
		}
		var ts string
		if raw, ok := obj["time"]; ok && json.Unmarshal(raw, &ts) == nil && !bytes.Contains(raw, []byte(`\`)) {
			var want int64
			if tm, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				want = tm.UnixNano()
			}
			if got.Time != want {
				t.Fatalf("time: got %d, want %d for %q", got.Time, want, ts)
			}
		}
	})
}

// checkString compares a string Scan returned raw with json's decoding, for
// strings without escapes or invalid UTF-8 (Scan returns the raw content;
// json unescapes and replaces bad bytes with U+FFFD).
func checkString(t *testing.T, key string, raw json.RawMessage, got []byte) {
	t.Helper()
	var want string
	if raw == nil || json.Unmarshal(raw, &want) != nil || bytes.Contains(raw, []byte(`\`)) || !utf8.Valid(raw) {
		return
	}
	if string(got) != want {
		t.Fatalf("%s: got %q, want %q", key, got, want)
	}
}

func isPlainInt(raw []byte) bool {
	s := strings.TrimPrefix(string(raw), "-")
	return s != "" && strings.Trim(s, "0123456789") == "" && len(s) <= 18
}
