package record

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRecorderRoundTrip(t *testing.T) {
	for _, name := range []string{"day.jsonl", "day.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			t0 := time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC)
			msgs := []string{
				`{"type":"heartbeat","sequence":1}`,
				"{\"type\":\"ticker\",\n  \"price\":\"1.00\"}", // spans lines: compacted
				"not json \x01",
			}
			// Two runs append to the same file (a second gzip member).
			for run := range 2 {
				r, err := Create(path)
				if err != nil {
					t.Fatal(err)
				}
				r.Connected(t0, "ws://x/", []string{"BTC-USD"}, []string{"level2"})
				for i, m := range msgs {
					if err := r.Message(t0.Add(time.Duration(run*10+i)*time.Millisecond), []byte(m)); err != nil {
						t.Fatal(err)
					}
				}
				r.Disconnected(t0.Add(time.Second), "feed: upstream stale")
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rr, err := NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for {
				rec, err := rr.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec.Recv.Format(time.RFC3339Nano)+" "+rec.Event+string(rec.Msg)+rec.Reason+strings.Join(rec.Channels, ","))
			}
			want := []string{
				"2026-11-21T12:00:00.123456789Z connectedlevel2",
				`2026-11-21T12:00:00.123456789Z {"type":"heartbeat","sequence":1}`,
				`2026-11-21T12:00:00.124456789Z {"type":"ticker","price":"1.00"}`,
				"2026-11-21T12:00:00.125456789Z not json \x01",
				"2026-11-21T12:00:01.123456789Z disconnectedfeed: upstream stale",
			}
			if len(got) != 2*len(want) {
				t.Fatalf("read %d records, want %d:\n%s", len(got), 2*len(want), strings.Join(got, "\n"))
			}
			for i, w := range want {
				if got[i] != w {
					t.Errorf("record %d: %q, want %q", i, got[i], w)
				}
			}
		})
	}
}

func TestRecordReaderBadLines(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "records", "session.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rr, _ := NewReader(f)
	var events []string
	for {
		rec, err := rr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrBadRecord) {
			events = append(events, "bad@"+strings.Fields(err.Error())[4])
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, rec.Event+"|"+string(rec.Msg[:min(len(rec.Msg), 10)]))
	}
	want := `[connected| |{"type":"s |{not json |{"type":"l bad@6: disconnected|]`
	if got := strings.Join(events, " "); "["+got+"]" != want {
		t.Errorf("got [%s]\nwant %s", got, want)
	}
}

func TestRecordReaderLineLimit(t *testing.T) {
	rr, _ := NewReader(strings.NewReader(`{"recv":"2026-11-21T12:00:00Z","raw":"` + strings.Repeat("x", 300) + "\"}\n"))
	rr.max = 100
	if _, err := rr.Next(); !errors.Is(err, ErrRecordTooLong) {
		t.Fatalf("err %v, want ErrRecordTooLong", err)
	}
}
