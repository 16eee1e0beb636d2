package coinbase

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tickerfan/tickerfan/feed"
)

// referenceDecode is what msgScanner must do, written with encoding/json:
// the message must be one valid JSON object (else bad_json), each key it
// reads takes its last value, decoded by encoding/json into the field its
// json tag names (a type error is bad_field), and null is the zero value.
func referenceDecode(raw []byte) (cbMessage, string) {
	var m cbMessage
	if i := bytes.IndexFunc(raw, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i < 0 || raw[i] != '{' {
		return m, feed.ReasonBadJSON
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return m, feed.ReasonBadJSON
	}
	reason := ""
	v := reflect.ValueOf(&m).Elem()
	for i := range v.NumField() {
		tag := v.Type().Field(i).Tag.Get("json")
		val, ok := fields[tag]
		if tag == "" || tag == "-" || !ok {
			continue
		}
		if err := json.Unmarshal(val, v.Field(i).Addr().Interface()); err != nil {
			reason = feed.ReasonBadField
		}
		if tag == "sequence" {
			var seq int64
			m.HasSequence = string(val) != "null" && json.Unmarshal(val, &seq) == nil
		}
	}
	if reason == "" && m.Type == "" {
		reason = feed.ReasonBadField
	}
	return m, reason
}

// sameMessage compares two decoded messages, taking an empty table or row
// for an absent one (the normalizer reads only their lengths and cells).
func sameMessage(a, b *cbMessage) bool {
	table := func(t [][]string) string {
		var s strings.Builder
		for _, row := range t {
			fmt.Fprintf(&s, "%q;", row)
		}
		return s.String()
	}
	ac, bc := *a, *b
	for _, m := range []*cbMessage{&ac, &bc} {
		m.rows, m.cells = nil, nil
		if len(m.Products) == 0 {
			m.Products = nil
		}
	}
	at := []string{table(ac.Bids), table(ac.Asks), table(ac.Changes)}
	bt := []string{table(bc.Bids), table(bc.Asks), table(bc.Changes)}
	ac.Bids, ac.Asks, ac.Changes, bc.Bids, bc.Asks, bc.Changes = nil, nil, nil, nil, nil, nil
	return reflect.DeepEqual(ac, bc) && reflect.DeepEqual(at, bt)
}

// checkScan decodes raw with the scanner and the reference and reports how
// they differ.
func checkScan(t *testing.T, raw []byte) {
	t.Helper()
	var got cbMessage
	err := decodeMessage(raw, &got)
	want, reason := referenceDecode(raw)
	gotReason := ""
	if err != nil {
		gotReason = err.Reason
	}
	if gotReason != reason {
		t.Fatalf("%q: reason %q (%v), want %q", raw, gotReason, err, reason)
	}
	if reason == "" && !sameMessage(&got, &want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", raw, got, want)
	}
}

var scanCases = []string{
	`{"type":"ticker","product_id":"BTC-USD","sequence":5,"price":"1.5","trade_id":7,"best_bid":"1","x":[1,{"a":[true,false,null]}]}`,
	`{"type":"snapshot","product_id":"BTC-USD","bids":[["1.00","2","3"],null,[]],"asks":[["2.00",null]]}`,
	`{"type":"l2update","changes":[["buy","1","2"]],"changes":[["sell","3","4"]]}`,
	`{"type":"status","products":[{"id":"BTC-USD","status":"online","status_message":"x","other":1},null]}`,
	` {"type" : "match" , "maker_order_id":"a\u00e9\"b\\","taker_order_id":"\ud83d\ude00","side":"buy"} `,
	`{"typ\u0065":"heartbeat","sequence":null,"last_trade_id":-9223372036854775808}`,
	`{"type":"x","sequence":9223372036854775807}`,
	`{"type":"x","type":null}`,
	`{"type":"caf` + "\xff" + `é"}`,
	`{"Type":"ticker"}`,
	`{}`,
	// bad_field
	`{"type":"match","trade_id":"103"}`,
	`{"type":"match","trade_id":1.5}`,
	`{"type":"match","trade_id":1e3}`,
	`{"type":"match","trade_id":9223372036854775808}`,
	`{"type":"x","sequence":-9223372036854775809}`,
	`{"type":"l2update","changes":[["buy",42999.99,"1"]]}`,
	`{"type":"l2update","changes":["buy"]}`,
	`{"type":"l2update","changes":{"a":1}}`,
	`{"type":"status","products":["x",{"id":5}]}`,
	`{"type":true}`,
	`{"type":"x","price":{}}`,
	// bad_json
	`{"type":"x",}`, `{"type":"x"`, `{"type":"x"}}`, `{"type":"x"} x`, `{"type":"x" "a":1}`,
	`{"type":"x","a":01}`, `{"type":"x","a":-}`, `{"type":"x","a":1.}`, `{"type":"x","a":1e}`,
	`{"type":"x","a":tru}`, `{"type":"x","a":nul}`, `{"type":"x","a":"\q"}`, `{"type":"x","a":"\u12g4"}`,
	"{\"type\":\"x\",\"a\":\"\x01\"}", `{"type":"x","a":"`, `{"type":"x","a":[1,]}`, `{"type":"x","a":[1 2]}`,
	`{"type":1,"a":[}`, `{"type":"match","trade_id":"x","a":[}`, `{'type':'x'}`, `[]`, ``, `  `, `{"a"}`, `{1:2}`,
}

func TestScanMatchesEncodingJSON(t *testing.T) {
	for _, c := range scanCases {
		checkScan(t, []byte(c))
	}
}

func TestScanNesting(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(`{"type":"x","a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	for _, n := range []int{maxDepth - 1, maxDepth} {
		checkScan(t, deep(n))
	}
}

// The scratch tables of one message must not show through in the next.
func TestScanScratchReused(t *testing.T) {
	var m cbMessage
	if err := decodeMessage([]byte(`{"type":"snapshot","bids":[["1","2"],["3","4"]],"asks":[["5","6"]]}`), &m); err != nil {
		t.Fatal(err)
	}
	if err := decodeMessage([]byte(`{"type":"l2update","changes":[["sell","7","8"]]}`), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Bids) != 0 || len(m.Asks) != 0 || fmt.Sprint(m.Changes) != "[[sell 7 8]]" {
		t.Fatalf("second message %+v", m)
	}
}

// Decode rate of the scanner alone: go test ./feed/coinbase -bench Scan -run ^$
func BenchmarkScan(b *testing.B) {
	var m cbMessage
	for _, name := range []string{"ticker.json", "match.json", "l2update.json"} {
		raw := readLines(b, name)[0]
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if err := decodeMessage(raw, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzScan holds the scanner to encoding/json on any input.
func FuzzScan(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c))
	}
	seedDir(f, "testdata/messages")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}
