package feed

import (
	"maps"
	"sync"
	"time"
)

// State is where an upstream feed stands, as /feeds and the
// tickerfan_feed_state metric report it.
type State string

// The states of a feed.
const (
	// StateConnecting: dialing the upstream, or connected for the first time
	// and waiting for the first snapshots.
	StateConnecting State = "connecting"
	// StateLive: every product's book is in sync with the upstream.
	StateLive State = "live"
	// StateResyncing: connected, but at least one book waits for a fresh
	// snapshot, after a reconnect, a sequence gap or a malformed update.
	StateResyncing State = "resyncing"
	// StateStale: the upstream sent nothing, not even a heartbeat, for the
	// stale timeout; the connection was dropped and is being re-established.
	StateStale State = "stale"
	// StateStopped: the feed has ended (a replay that does not loop) or its
	// Run has returned.
	StateStopped State = "stopped"
)

// States lists every State, for metrics that export one series per state.
var States = []State{StateConnecting, StateLive, StateResyncing, StateStale, StateStopped}

// Reasons a message from upstream is counted as malformed or unexpected and
// dropped, the reason label of tickerfan_feed_malformed_total.
const (
	ReasonBadJSON        = "bad_json"        // not a JSON object
	ReasonBadField       = "bad_field"       // a field missing or of the wrong type, a bad decimal, time or side
	ReasonUnknownType    = "unknown_type"    // a "type" tickerfan does not handle
	ReasonNegativeSize   = "negative_size"   // a level or change with a size below zero
	ReasonBadPrice       = "bad_price"       // a price not above zero
	ReasonBadSnapshot    = "bad_snapshot"    // a snapshot not sorted best first, crossed, or with a zero size
	ReasonUnknownProduct = "unknown_product" // a product the feed did not subscribe to
	ReasonUpstreamError  = "upstream_error"  // an "error" message from the upstream
	ReasonTooBig         = "too_big"         // a message over max_message_bytes
	ReasonBadRecord      = "bad_record"      // a replay file line that is not a record
)

// Reasons lists every malformed-message reason.
var Reasons = []string{
	ReasonBadJSON, ReasonBadField, ReasonUnknownType, ReasonNegativeSize, ReasonBadPrice,
	ReasonBadSnapshot, ReasonUnknownProduct, ReasonUpstreamError, ReasonTooBig, ReasonBadRecord,
}

// Status is a snapshot of one feed's health, for /feeds and /metrics.
type Status struct {
	Name     string
	Kind     string
	Source   string // the upstream URL or the replayed file
	Products []string
	State    State
	// Since is when State was entered.
	Since time.Time
	// LastMessage is when the last upstream message arrived; zero before the first.
	LastMessage time.Time
	Messages    uint64  // raw upstream messages received
	Bytes       uint64  // their payload bytes
	Rate        float64 // messages per second over the last 10 whole seconds
	Reconnects  uint64  // connections lost or refused, each followed by a new attempt
	Resyncs     uint64  // fresh snapshots requested for a product (gap, bad update)
	Gaps        uint64  // sequence gaps detected
	// Malformed counts dropped messages by reason (the Reason constants).
	Malformed map[string]uint64
	// LastError says why the last connection ended, empty when none has.
	LastError string
}

// StatusReporter is implemented by sources that report their health; /feeds
// and the feed metrics list the sources that do.
type StatusReporter interface {
	Status() Status
}

var (
	_ StatusReporter = (*Coinbase)(nil)
	_ StatusReporter = (*Replay)(nil)
	_ StatusReporter = (*Simulator)(nil)
)

// Status reports the simulator: it is always live.
func (s *Simulator) Status() Status {
	return Status{Name: s.name, Kind: KindSimulator, Products: s.Products(), State: StateLive}
}

// tracker keeps a feed's Status up to date; the feed's Run goroutine writes
// it, Status readers copy it. mu guards everything.
type tracker struct {
	mu   sync.Mutex
	st   Status
	rate rateWindow
}

func newTracker(name, kind, source string, products []string) *tracker {
	return &tracker{st: Status{
		Name: name, Kind: kind, Source: source, Products: products,
		State: StateConnecting, Since: time.Now(), Malformed: map[string]uint64{},
	}}
}

// status returns a copy the caller owns.
func (t *tracker) status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	st.Products = append([]string(nil), t.st.Products...)
	st.Malformed = maps.Clone(t.st.Malformed)
	st.Rate = t.rate.rate(time.Now())
	return st
}

func (t *tracker) state() State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st.State
}

func (t *tracker) setState(s State) {
	t.mu.Lock()
	if t.st.State != s {
		t.st.State, t.st.Since = s, time.Now()
	}
	t.mu.Unlock()
}

// message counts one upstream message of n bytes received at now.
func (t *tracker) message(n int, now time.Time) {
	t.mu.Lock()
	t.st.Messages++
	t.st.Bytes += uint64(n)
	t.st.LastMessage = now
	t.rate.add(now)
	t.mu.Unlock()
}

func (t *tracker) malformed(reason string) {
	t.mu.Lock()
	t.st.Malformed[reason]++
	t.mu.Unlock()
}

func (t *tracker) gap() {
	t.mu.Lock()
	t.st.Gaps++
	t.mu.Unlock()
}

func (t *tracker) resync() {
	t.mu.Lock()
	t.st.Resyncs++
	t.mu.Unlock()
}

// reconnect counts a lost or refused connection and remembers why.
func (t *tracker) reconnect(err error) {
	t.mu.Lock()
	t.st.Reconnects++
	if err != nil {
		t.st.LastError = err.Error()
	}
	t.mu.Unlock()
}

// rateWindow counts events in one-second buckets over the last ten seconds.
type rateWindow struct {
	sec [10]int64
	n   [10]uint64
}

func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	i := s % int64(len(w.sec))
	if w.sec[i] != s {
		w.sec[i], w.n[i] = s, 0
	}
	w.n[i]++
}

// rate is the mean events per second over the ten whole seconds before now.
func (w *rateWindow) rate(now time.Time) float64 {
	s := now.Unix()
	var sum uint64
	for i, sec := range w.sec {
		if sec < s && sec >= s-int64(len(w.sec)) {
			sum += w.n[i]
		}
	}
	return float64(sum) / float64(len(w.sec))
}
