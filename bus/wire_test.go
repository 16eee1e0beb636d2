package bus

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)

var tk = book.Ticker{TradeID: 42, Price: dec("100.25"), LastSize: dec("0.00000001"), Side: model.Buy, Time: t0,
	Open24h: dec("99"), High24h: dec("101"), Low24h: dec("98.5"), Volume24h: dec("1234.5"), Volume30d: dec("99999.123"),
	BestBid: dec("100.24"), BestBidSize: dec("3"), BestAsk: dec("100.26"), BestAskSize: dec("4.5")}

// wireCases covers every event kind with its edge values.
var wireCases = []struct {
	name string
	ev   book.Event
}{
	{"snapshot", book.Event{Kind: book.EventSnapshot, Product: "BTC-USD", Seq: 1, Time: t0, UpstreamSeq: 77,
		Bids: []model.Level{{Price: dec("100.24"), Size: dec("3")}, {Price: dec("100"), Size: dec("0.1")}},
		Asks: []model.Level{{Price: dec("100.26"), Size: dec("4.5")}}, Ticker: tk, Online: true, Message: "ok"}},
	{"empty snapshot", book.Event{Kind: book.EventSnapshot, Product: "ETH-BTC", Seq: 1 << 40}},
	{"update", book.Event{Kind: book.EventUpdate, Product: "ETH-USD", Seq: 9, Time: t0, UpstreamSeq: -1,
		Changes: []model.Change{{Side: model.Buy, Price: dec("1.5"), Size: dec("0")}, {Side: model.Sell, Price: dec("2"), Size: dec("12345678901234567890.123456789")}}}},
	{"trade", book.Event{Kind: book.EventTrade, Product: "SOL-USD", Seq: 3, Time: t0, UpstreamSeq: 5,
		Trade:  model.Trade{TradeID: 42, MakerOrderID: "m", TakerOrderID: "t", Side: model.Sell, Price: dec("100.25"), Size: dec("0.00000001")},
		Ticker: tk, LastTradeID: 42}},
	{"status", book.Event{Kind: book.EventStatus, Product: "a.b *>", Seq: 4, Time: t0, Message: "upstream disconnected"}},
	{"heartbeat", book.Event{Kind: book.EventHeartbeat, Product: "BTC-USD", Seq: 5, Time: t0, UpstreamSeq: 1 << 62, LastTradeID: 41}},
}

func TestEventRoundTrip(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			b := AppendEvent([]byte("junk"), 1234567890123, &c.ev)
			epoch, got, err := DecodeEvent(b[4:])
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if epoch != 1234567890123 {
				t.Errorf("epoch = %d", epoch)
			}
			wantSameEvent(t, got, c.ev)
			if again := AppendEvent(nil, epoch, &got); string(again) != string(b[4:]) {
				t.Errorf("re-encoding differs:\n%x\n%x", again, b[4:])
			}
		})
	}
}

// wantSameEvent compares events with decimals and times by value.
func wantSameEvent(t *testing.T, got, want book.Event) {
	t.Helper()
	if g, w := AppendEvent(nil, 0, &got), AppendEvent(nil, 0, &want); string(g) != string(w) {
		t.Errorf("event = %+v\nwant    %+v", got, want)
	}
	if !got.Time.Equal(want.Time) || got.Kind != want.Kind || got.Seq != want.Seq || got.Product != want.Product {
		t.Errorf("header = %v %d %s %v, want %v %d %s %v", got.Kind, got.Seq, got.Product, got.Time,
			want.Kind, want.Seq, want.Product, want.Time)
	}
	for i, l := range want.Bids {
		if !got.Bids[i].Price.Equal(l.Price) || !got.Bids[i].Size.Equal(l.Size) {
			t.Errorf("bid %d = %v, want %v", i, got.Bids[i], l)
		}
	}
}

func TestBeatRoundTrip(t *testing.T) {
	in := Beat{ID: "ingest-a", Epoch: 99, Time: t0, Products: []ProductSeq{{"BTC-USD", 12, true}, {"ETH-USD", 0, false}}}
	got, err := DecodeBeat(AppendBeat(nil, &in))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Time.Equal(in.Time) {
		t.Errorf("time = %v", got.Time)
	}
	got.Time = in.Time
	if !reflect.DeepEqual(got, in) {
		t.Errorf("beat = %+v, want %+v", got, in)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := AppendEvent(nil, 1, &wireCases[2].ev)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"version", append([]byte{2}, good[1:]...), ErrVersion},
		{"kind", append([]byte{1, 9}, good[2:]...), ErrKind},
		{"beat as event", AppendBeat(nil, &Beat{ID: "x"}), ErrKind},
		{"truncated", good[:len(good)-1], ErrTruncated},
		{"trailing", append(append([]byte(nil), good...), 0), ErrTrailing},
		{"31-digit decimal", AppendEvent(nil, 1, &book.Event{Kind: book.EventUpdate,
			Changes: []model.Change{{Side: model.Buy, Price: decimal.New(1, 30), Size: dec("1")}}}), nil},
		{"bad side", AppendEvent(nil, 1, &book.Event{Kind: book.EventUpdate,
			Changes: []model.Change{{Side: 7, Price: dec("1"), Size: dec("1")}}}), ErrField},
		{"huge count", []byte{1, byte(book.EventUpdate), 1, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, ErrField},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := DecodeEvent(c.b)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("DecodeEvent = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := DecodeBeat(good); !errors.Is(err, ErrKind) {
		t.Errorf("DecodeBeat(event) = %v, want ErrKind", err)
	}
	exp := []byte{1, byte(book.EventUpdate), 1, 1, 0, 0, 0, 1, 1, 4, '1', 'e', '9', '9', 1, '1'}
	if _, _, err := DecodeEvent(exp); !errors.Is(err, ErrField) {
		t.Errorf("DecodeEvent(exponent decimal) = %v, want ErrField", err)
	}
}

// FuzzDecodeEvent checks that the decoders never panic and that whatever they
// accept survives a round trip (the input itself may be non-canonical:
// redundant varint bytes, decimals like "01.50").
func FuzzDecodeEvent(f *testing.F) {
	for _, c := range wireCases {
		f.Add(AppendEvent(nil, 7, &c.ev))
	}
	f.Add(AppendBeat(nil, &Beat{ID: "a", Epoch: 1, Products: []ProductSeq{{"BTC-USD", 3, true}}}))
	f.Add(AppendReply(nil, 7, &wireCases[0].ev, []book.Event{wireCases[3].ev, wireCases[3].ev}))
	f.Add(AppendRequest(nil, "BTC-USD", 42))
	f.Fuzz(func(t *testing.T, b []byte) {
		if epoch, snap, trades, err := DecodeReply(b); err == nil {
			again := AppendReply(nil, epoch, &snap, trades)
			if _, snap2, trades2, err := DecodeReply(again); err != nil || len(trades2) != len(trades) || snap2.Product != snap.Product {
				t.Errorf("reply does not round-trip: %v", err)
			}
		}
		if product, after, err := DecodeRequest(b); err == nil && string(AppendRequest(nil, product, after)) != string(b) && len(b) < 10 {
			p2, a2, err := DecodeRequest(AppendRequest(nil, product, after))
			if err != nil || p2 != product || a2 != after {
				t.Errorf("request does not round-trip")
			}
		}
		if beat, err := DecodeBeat(b); err == nil {
			again := AppendBeat(nil, &beat)
			beat2, err := DecodeBeat(again)
			if err != nil || string(AppendBeat(nil, &beat2)) != string(again) {
				t.Errorf("beat does not round-trip: %v", err)
			}
		}
		epoch, ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		again := AppendEvent(nil, epoch, &ev)
		if _, ev2, err := DecodeEvent(again); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		} else if string(AppendEvent(nil, epoch, &ev2)) != string(again) {
			t.Errorf("second round trip differs")
		}
	})
}

// BenchmarkWire encodes and decodes each case of wireCases; a 20+20-level
// snapshot and a 5-change update are the usual traffic.
func BenchmarkWire(b *testing.B) {
	for _, c := range wireCases {
		buf := AppendEvent(nil, 1, &c.ev)
		b.Run("encode/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			dst := make([]byte, 0, 1024)
			for b.Loop() {
				dst = AppendEvent(dst[:0], 1, &c.ev)
			}
		})
		b.Run("decode/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, _, err := DecodeEvent(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	snap, trade := wireCases[0].ev, wireCases[3].ev
	trade.Product = snap.Product
	b := AppendReply(nil, 9, &snap, []book.Event{trade, trade})
	epoch, got, trades, err := DecodeReply(b)
	if err != nil || epoch != 9 || len(trades) != 2 {
		t.Fatalf("DecodeReply = %d, %d trades, %v", epoch, len(trades), err)
	}
	wantSameEvent(t, got, snap)
	wantSameEvent(t, trades[1], trade)
	if _, _, _, err := DecodeReply(AppendReply(nil, 9, &trade, nil)); !errors.Is(err, ErrKind) {
		t.Errorf("reply without a snapshot first: %v", err)
	}
	if _, _, _, err := DecodeReply(b[:len(b)-1]); err == nil {
		t.Error("truncated reply accepted")
	}
	product, after, err := DecodeRequest(AppendRequest(nil, "A.B", -1))
	if err != nil || product != "A.B" || after != -1 {
		t.Errorf("DecodeRequest = %q %d %v", product, after, err)
	}
}
