// Package record is the file format of a recorded upstream session: one JSON
// line per raw message with its receive time, plus connect and disconnect
// events, optionally gzipped. Writer writes it (tickerfan record, a coinbase
// feed's record option); Reader reads it back (a replay feed).
package record
