package transport

import "time"

// clockEvery is the resolution of the server's coarse clock (Server.clock):
// fine enough for latestAfter, the 50 ms a ticker waits before tickers
// replace each other, and for the fresh-state bucket; coarse enough that
// keeping it costs nothing measurable.
const clockEvery = 5 * time.Millisecond

// tickClock keeps Server.clock, the milliseconds since the server was born
// that every Send stamps its frame with: reading the system clock there,
// once per subscriber per message, would cost the fan-out more than all its
// queueing. The Server's gate starts it in Serve; Shutdown stops it
// (stopSweep).
func (s *Server) tickClock() {
	tick := time.NewTicker(clockEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stopSweep:
			return
		case now := <-tick.C:
			// Ages compare by wrapping subtraction: the wrap after 49 days
			// is harmless.
			s.clock.Store(uint32(now.Sub(s.born).Milliseconds()))
		}
	}
}
