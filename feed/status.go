package feed

import (
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
