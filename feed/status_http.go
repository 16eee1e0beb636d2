package feed

import (
	"encoding/json"
	"net/http"
	"time"
)

// feedJSON is one element of the /feeds answer.
type feedJSON struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Source   string   `json:"source,omitempty"`
	Products []string `json:"products"`
	State    State    `json:"state"`
	Since    string   `json:"state_since,omitempty"`
	// LastMessage and LastMessageAge are null before the first message.
	LastMessage    *string           `json:"last_message"`
	LastMessageAge *float64          `json:"last_message_age_seconds"`
	Messages       uint64            `json:"messages"`
	Bytes          uint64            `json:"bytes"`
	Rate           float64           `json:"messages_per_second"`
	Reconnects     uint64            `json:"reconnects"`
	Resyncs        uint64            `json:"resyncs"`
	Gaps           uint64            `json:"gaps"`
	Malformed      map[string]uint64 `json:"malformed"`
	LastError      string            `json:"last_error,omitempty"`
}

const jsonTime = "2006-01-02T15:04:05.000000Z07:00"

func toJSON(st Status, now time.Time) feedJSON {
	f := feedJSON{
		Name: st.Name, Kind: st.Kind, Source: st.Source, Products: st.Products, State: st.State,
		Messages: st.Messages, Bytes: st.Bytes, Rate: st.Rate, Reconnects: st.Reconnects,
		Resyncs: st.Resyncs, Gaps: st.Gaps, Malformed: st.Malformed, LastError: st.LastError,
	}
	if f.Products == nil {
		f.Products = []string{}
	}
	if f.Malformed == nil {
		f.Malformed = map[string]uint64{}
	}
	if !st.Since.IsZero() {
		f.Since = st.Since.UTC().Format(jsonTime)
	}
	if !st.LastMessage.IsZero() {
		last := st.LastMessage.UTC().Format(jsonTime)
		age := now.Sub(st.LastMessage).Seconds()
		f.LastMessage, f.LastMessageAge = &last, &age
	}
	return f
}

// Handler serves GET /feeds: a JSON list with the Status of every source, in
// configuration order. A source that is no StatusReporter is listed by name
// with state "live".
func Handler(sources []Source) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		now := time.Now()
		out := make([]feedJSON, 0, len(sources))
		for _, src := range sources {
			st := Status{Name: src.Name(), Products: src.Products(), State: StateLive}
			if r, ok := src.(StatusReporter); ok {
				st = r.Status()
			}
			out = append(out, toJSON(st, now))
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}
