// Package feed is what tickerfan's upstream adapters share: the Source
// interface every adapter implements, the Tracker that keeps a feed's health,
// and the /feeds handler that reports it.
//
// Each adapter is its own package: feed/sim (the built-in market simulator),
// feed/coinbase (a Coinbase-protocol WebSocket upstream, and the replay of a
// recording of one), with feed/record the recording file format. Adapters emit
// model.Updates; book.Market applies them.
package feed
