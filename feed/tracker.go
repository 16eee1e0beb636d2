package feed

import (
	"maps"
	"sync"
	"time"
)

// Tracker keeps a feed's Status up to date for the adapters: the feed's Run
// goroutine writes it, Status readers copy it. mu guards everything.
type Tracker struct {
	mu   sync.Mutex
	st   Status
	rate rateWindow
}

// NewTracker returns a Tracker in StateConnecting.
func NewTracker(name, kind, source string, products []string) *Tracker {
	now := time.Now()
	return &Tracker{st: Status{
		Name: name, Kind: kind, Source: source, Products: products,
		State: StateConnecting, Since: now, Malformed: map[string]uint64{},
	}, rate: rateWindow{start: now.Unix()}}
}

// Status returns a copy the caller owns.
func (t *Tracker) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	st.Products = append([]string(nil), t.st.Products...)
	st.Malformed = maps.Clone(t.st.Malformed)
	st.Rate = t.rate.rate(time.Now())
	return st
}

// State returns the current state.
func (t *Tracker) State() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.State
}

// SetState enters s, remembering when.
func (t *Tracker) SetState(s State) {
	t.mu.Lock()
	if t.st.State != s {
		t.st.State, t.st.Since = s, time.Now()
	}
	t.mu.Unlock()
}

// Message counts one upstream message of n bytes received at now.
func (t *Tracker) Message(n int, now time.Time) {
	t.mu.Lock()
	t.st.Messages++
	t.st.Bytes += uint64(n)
	t.st.LastMessage = now
	t.rate.add(now)
	t.mu.Unlock()
}

// Malformed counts one message dropped for reason (a Reason constant).
func (t *Tracker) Malformed(reason string) {
	t.mu.Lock()
	t.st.Malformed[reason]++
	t.mu.Unlock()
}

// Gap counts one sequence gap.
func (t *Tracker) Gap() {
	t.mu.Lock()
	t.st.Gaps++
	t.mu.Unlock()
}

// Resync counts one fresh snapshot requested for a product.
func (t *Tracker) Resync() {
	t.mu.Lock()
	t.st.Resyncs++
	t.mu.Unlock()
}

// Reconnect counts a lost or refused connection and remembers why.
func (t *Tracker) Reconnect(err error) {
	t.mu.Lock()
	t.st.Reconnects++
	if err != nil {
		t.st.LastError = err.Error()
	}
	t.mu.Unlock()
}

// rateWindow counts events in one-second buckets over the last ten seconds.
type rateWindow struct {
	sec   [10]int64
	n     [10]uint64
	start int64 // the second counting started (Unix); 0: long ago
}

func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	i := s % int64(len(w.sec))
	if w.sec[i] != s {
		w.sec[i], w.n[i] = s, 0
	}
	w.n[i]++
}

// rate is the mean events per second over the ten whole seconds before now,
// or over the whole seconds since start when fewer (at least one), so a feed
// that started 2 s ago is not reported at a fifth of its rate.
func (w *rateWindow) rate(now time.Time) float64 {
	s := now.Unix()
	var sum uint64
	for i, sec := range w.sec {
		if sec < s && sec >= s-int64(len(w.sec)) {
			sum += w.n[i]
		}
	}
	covered := min(max(s-w.start, 1), int64(len(w.sec)))
	return float64(sum) / float64(covered)
}
