package fanout

// channel is one of the protocol's channels.
type channel uint8

// The channels tickerfan serves. Order is the order of the subscriptions reply.
const (
	chHeartbeat channel = iota
	chStatus
	chTicker
	chTickerBatch
	chLevel2
	chLevel2Batch
	chMatches
	numChannels
)

// channelMask is a set of channels.
type channelMask uint8

func (m channelMask) has(c channel) bool { return m&(1<<c) != 0 }

func maskOf(c channel) channelMask { return 1 << c }

var channelNames = [numChannels]string{
	chHeartbeat:   "heartbeat",
	chStatus:      "status",
	chTicker:      "ticker",
	chTickerBatch: "ticker_batch",
	chLevel2:      "level2",
	chLevel2Batch: "level2_batch",
	chMatches:     "matches",
}

func (c channel) String() string { return channelNames[c] }

// unsupportedChannels need order-level data tickerfan does not carry; they are
// answered with an error, never ignored (PROTOCOL.md guarantee 4).
var unsupportedChannels = map[string]bool{"full": true, "level3": true, "user": true}

// lookupChannel maps a wire name (with aliases) to a channel.
func lookupChannel(name string) (channel, bool) {
	if name == "level2_50" {
		return chLevel2Batch, true
	}
	for c, n := range channelNames {
		if n == name {
			return channel(c), true
		}
	}
	return 0, false
}

// isLevel2 reports whether the channel carries snapshot + l2update.
func (c channel) isLevel2() bool { return c == chLevel2 || c == chLevel2Batch }

// conflatable reports whether frames of the channel may be dropped for a slow
// consumer and replaced by a fresh state later (level2 by a snapshot, ticker
// by the newest ticker).
func (c channel) conflatable() bool {
	return c == chLevel2 || c == chLevel2Batch || c == chTicker || c == chTickerBatch
}
