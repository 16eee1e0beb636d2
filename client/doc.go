// Package client subscribes to a tickerfan (or any server speaking the
// Coinbase Exchange WebSocket feed protocol) and keeps exact level-2 books.
//
// A Client owns one WebSocket connection at a time. It reconnects on its own,
// with a capped, jittered exponential backoff, and then subscribes again to
// everything it was subscribed to. Its level-2 books are built from
// snapshot + l2update with exact decimals (shopspring/decimal) and are
// checked against tickerfan's extensions: the "sequence" of every
// snapshot/l2update must increase by exactly 1 (a gap resubscribes that
// product's level2 channel for a fresh snapshot), and, with Config.Checksum,
// the book's CRC-32 after every update must equal the server's "checksum".
// After a reconnect the client asks to resume each book from the last
// sequence it saw (the "resume" extension): the server sends the updates
// that were missed, or a fresh snapshot when it no longer holds them (for
// example after a restart).
//
// Messages arrive typed (*Ticker, *Match, *L2Update, *Snapshot, *Heartbeat,
// *Status, *Subscriptions, *Error, and the client's own *Connected and
// *Disconnected) on the channel Messages returns; each keeps the frame's
// JSON as received (Raw). The docs/PROTOCOL.md of the tickerfan repository
// describes every message.
package client
