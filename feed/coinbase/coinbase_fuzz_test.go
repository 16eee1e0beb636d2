package coinbase

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"github.com/tickerfan/tickerfan/feed/record"
	"github.com/tickerfan/tickerfan/model"
)

// seedDir adds every file of dir to the corpus, and each of its
// lines on its own.
func seedDir(f *testing.F, dir string) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds in %s: %v", dir, err)
	}
	var seeds [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
		f.Add(data)
		for _, line := range bytes.Split(data, []byte("\n")) {
			f.Add(line)
		}
	}
	return seeds
}

// FuzzNormalize feeds arbitrary bytes to the Coinbase normalizer, whole and
// line by line (a message per line), and checks that whatever comes out is
// something a book accepts: the decoder never lets a malformed value through.
func FuzzNormalize(f *testing.F) {
	seedDir(f, "testdata/messages")
	f.Fuzz(func(t *testing.T, data []byte) {
		n, out := newTestNormalizer(ChannelLevel2, ChannelTicker, ChannelMatches, ChannelHeartbeat)
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		n.handle(data, now)
		for _, line := range bytes.Split(data, []byte("\n")) {
			n.handle(line, now)
			n.takeResyncs()
		}
		for _, u := range *out {
			if err := checkUpdate(&u); err != nil {
				t.Fatalf("%v in %+v from %q", err, u, data)
			}
		}
	})
}

// checkUpdate reports what a book would refuse in u.
func checkUpdate(u *model.Update) error {
	if u.Product != "BTC-USD" && u.Product != "ETH-USD" {
		return fmt.Errorf("product %q", u.Product)
	}
	switch u.Kind {
	case model.KindSnapshot:
		return checkLevels(u.Bids, u.Asks)
	case model.KindChanges:
		if len(u.Changes) == 0 {
			return errors.New("no changes")
		}
		for _, c := range u.Changes {
			if (c.Side != model.Buy && c.Side != model.Sell) || c.Price.Sign() <= 0 || c.Size.Sign() < 0 {
				return fmt.Errorf("change %+v", c)
			}
		}
	case model.KindTrade:
		t := u.Trade
		if (t.Side != model.Buy && t.Side != model.Sell) || t.Price.Sign() <= 0 || t.Size.Sign() <= 0 || t.TradeID <= 0 {
			return fmt.Errorf("trade %+v", t)
		}
	case model.KindStats:
		if u.Stats == nil {
			return errors.New("stats without Stats")
		}
	case model.KindHeartbeat, model.KindStatus:
	default:
		return fmt.Errorf("kind %v", u.Kind)
	}
	return nil
}

func checkLevels(bids, asks []model.Level) error {
	for i, side := range [][]model.Level{bids, asks} {
		for j, l := range side {
			if l.Price.Sign() <= 0 || l.Size.Sign() <= 0 {
				return fmt.Errorf("level %+v", l)
			}
			if j > 0 && ((i == 0 && l.Price.Cmp(side[j-1].Price) >= 0) || (i == 1 && l.Price.Cmp(side[j-1].Price) <= 0)) {
				return fmt.Errorf("levels out of order at %+v", l)
			}
		}
	}
	if len(bids) > 0 && len(asks) > 0 && bids[0].Price.Cmp(asks[0].Price) >= 0 {
		return errors.New("crossed snapshot")
	}
	return nil
}

// FuzzRecordReader reads arbitrary bytes as a recording, whole, one byte at
// a time and in halves, plain and gzipped: every way must give the same
// records and errors, and a record written back reads the same.
func FuzzRecordReader(f *testing.F) {
	for _, s := range seedDir(f, "../record/testdata/records") {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(s)
		w.Close()
		f.Add(gz.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := readRecords(t, bytes.NewReader(data))
		if got := readRecords(t, iotest.OneByteReader(bytes.NewReader(data))); got != whole {
			t.Fatalf("byte by byte:\n%s\nwhole:\n%s", got, whole)
		}
		if got := readRecords(t, iotest.HalfReader(bytes.NewReader(data))); got != whole {
			t.Fatalf("in halves:\n%s\nwhole:\n%s", got, whole)
		}
	})
}

// readRecords renders every record and error of a recording, rewriting each
// record through a Recorder and checking it reads back the same.
func readRecords(t *testing.T, r io.Reader) string {
	rr, err := record.NewReader(r)
	if err != nil {
		return "open: " + err.Error()
	}
	var out bytes.Buffer
	for range 10000 {
		rec, err := rr.Next()
		if errors.Is(err, record.ErrBadRecord) {
			fmt.Fprintf(&out, "bad: %v\n", err)
			continue
		}
		if err != nil {
			fmt.Fprintf(&out, "end: %v\n", err)
			break
		}
		fmt.Fprintf(&out, "%s %q %q %q %v %v %q\n", rec.Recv.Format(time.RFC3339Nano), rec.Event, rec.Msg, rec.URL, rec.Products, rec.Channels, rec.Reason)
		rewriteRecord(t, rec)
	}
	return out.String()
}

func rewriteRecord(t *testing.T, rec record.Record) {
	var buf bytes.Buffer
	w := record.NewWriter(&buf, false)
	switch rec.Event {
	case record.EventConnected:
		w.Connected(rec.Recv, rec.URL, rec.Products, rec.Channels)
	case record.EventDisconnected:
		w.Disconnected(rec.Recv, rec.Reason)
	default:
		w.Message(rec.Recv, rec.Msg)
	}
	w.Close()
	rr, _ := record.NewReader(&buf)
	back, err := rr.Next()
	if err != nil {
		t.Fatalf("record %+v written as %q does not read back: %v", rec, buf.String(), err)
	}
	if !back.Recv.Equal(rec.Recv) || back.Event != rec.Event || back.Reason != rec.Reason {
		t.Fatalf("record %+v read back as %+v", rec, back)
	}
	if rec.Event != "" {
		return
	}
	want, got := rec.Msg, back.Msg
	if json.Valid(want) {
		want, got = compactJSON(want), compactJSON(got)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("message %q read back as %q", rec.Msg, back.Msg)
	}
}

func compactJSON(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}
