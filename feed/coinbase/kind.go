package coinbase

// The feed kinds a configuration names to use this package.
const (
	// Kind is a live Coinbase-protocol WebSocket upstream (Feed).
	Kind = "coinbase"
	// ReplayKind plays a recording of such an upstream back (Replay).
	ReplayKind = "replay"
)
