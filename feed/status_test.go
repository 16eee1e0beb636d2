package feed

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
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

func TestHandlerListsFeeds(t *testing.T) {
	sim, err := NewSimulator("sim", SimConfig{}, DefaultProducts()[:1])
	if err != nil {
		t.Fatal(err)
	}
	cb, err := NewCoinbase("cb", CoinbaseConfig{URL: "ws://127.0.0.1:1/"}, DefaultProducts()[1:3], nil)
	if err != nil {
		t.Fatal(err)
	}
	cb.tr.message(100, time.Now().Add(-2*time.Second))
	cb.tr.malformed(ReasonBadJSON)
	cb.tr.reconnect(errors.New("dial: refused"))
	rec := httptest.NewRecorder()
	Handler([]Source{sim, cb}).ServeHTTP(rec, httptest.NewRequest("GET", "/feeds", nil))
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
