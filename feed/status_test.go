package feed

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/model"
)

func TestRateWindow(t *testing.T) {
	var w rateWindow
	t0 := time.Unix(1_700_000_000, 0)
	for s := range 12 {
		for range 5 {
			w.add(t0.Add(time.Duration(s) * time.Second))
		}
	}
	// At second 12, the ten whole seconds before are 2..11: 50 events.
	if got := w.rate(t0.Add(12 * time.Second)); got != 5 {
		t.Errorf("rate %v, want 5/s", got)
	}
	if got := w.rate(t0.Add(time.Minute)); got != 0 {
		t.Errorf("rate a minute later %v, want 0", got)
	}
}

// A window that started recently divides by the seconds it has covered.
func TestRateWindowFromTheFirstSecond(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	cases := []struct {
		at   time.Duration // when the rate is read, after start
		want float64
	}{
		{500 * time.Millisecond, 0}, // no whole second yet: nothing counted
		{1 * time.Second, 20},
		{2*time.Second + 300*time.Millisecond, 20},
		{3 * time.Second, 20},
		{15 * time.Second, 20},
	}
	for _, tc := range cases {
		w := rateWindow{start: t0.Unix()}
		for ms := time.Duration(0); ms < tc.at; ms += 50 * time.Millisecond {
			w.add(t0.Add(ms)) // 20 a second
		}
		if got := w.rate(t0.Add(tc.at)); got != tc.want {
			t.Errorf("after %s: rate %v, want %v", tc.at, got, tc.want)
		}
	}
}

// trackedSource is a Source that only reports its Tracker's status.
type trackedSource struct{ tr *Tracker }

func (s trackedSource) Name() string                                  { return s.tr.Status().Name }
func (s trackedSource) Products() []string                            { return s.tr.Status().Products }
func (s trackedSource) Run(context.Context, func(model.Update)) error { return nil }
func (s trackedSource) Status() Status                                { return s.tr.Status() }

func TestHandlerListsFeeds(t *testing.T) {
	live := NewTracker("sim", "simulator", "", []string{"BTC-USD"})
	live.SetState(StateLive)
	cb := NewTracker("cb", "coinbase", "ws://127.0.0.1:1/", []string{"ETH-USD", "SOL-USD"})
	cb.Message(100, time.Now().Add(-2*time.Second))
	cb.Malformed(ReasonBadJSON)
	cb.Reconnect(errors.New("dial: refused"))
	rec := httptest.NewRecorder()
	Handler([]Source{trackedSource{live}, trackedSource{cb}}).ServeHTTP(rec, httptest.NewRequest("GET", "/feeds", nil))
	var got []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("/feeds is not JSON: %v\n%s", err, rec.Body)
	}
	if len(got) != 2 || got[0]["name"] != "sim" || got[0]["state"] != "live" || got[0]["last_message_age_seconds"] != nil {
		t.Fatalf("simulator entry %v", got[0])
	}
	c := got[1]
	if c["kind"] != "coinbase" || c["source"] != "ws://127.0.0.1:1/" || c["state"] != "connecting" ||
		c["messages"] != 1.0 || c["bytes"] != 100.0 || c["reconnects"] != 1.0 || c["last_error"] != "dial: refused" ||
		c["malformed"].(map[string]any)[ReasonBadJSON] != 1.0 {
		t.Errorf("coinbase entry %v", c)
	}
	if age, _ := c["last_message_age_seconds"].(float64); age < 2 {
		t.Errorf("last message age %v, want about 2s", age)
	}
}
