// Package bus carries the book -> fanout event stream (book.Event) between
// processes over NATS.
//
// An ingest node runs feeds and books and hands every event to a Publisher,
// which publishes it on the product's subject (Subjects) in the wire encoding
// of wire.go, stamped with the ingest's epoch, answers snapshot requests with
// the product's current book, and announces itself with a Beat every
// Config.HeartbeatInterval. An edge node runs a Follower: it chooses one live
// ingest per product, checks each event's epoch and Seq, recovers a product
// from a requested snapshot after a gap, a new epoch, a stale stream or a
// failover, and hands fanout a stream whose Seq never skips. README.md,
// "Scale-out on NATS", documents the subjects and the encoding for non-Go
// consumers.
package bus
