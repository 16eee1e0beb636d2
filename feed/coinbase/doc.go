// Package coinbase is the adapter for upstreams that speak the Coinbase
// Exchange WebSocket feed protocol (Coinbase itself, another tickerfan,
// tickerbench's upstream): Feed subscribes, normalizes every message into
// model.Updates with exact decimals, detects gaps and resyncs books; Replay
// plays a recording of such a session (package record) through the same
// normalizer.
package coinbase
