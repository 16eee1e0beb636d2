package transport

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/internal/delay"
)

// Stats are the transport's counters, read by the protocol's metrics at
// scrape time. The hot-path ones are plain atomics.
type Stats struct {
	// Accepted counts connections upgraded.
	Accepted atomic.Uint64
	// Rejected counts connections refused (503) at max_connections or, for
	// upgrades, while draining.
	Rejected atomic.Uint64
	// EventStreams counts event-stream connections taken (TakeEvents).
	EventStreams atomic.Uint64
	// RefusedOrigin counts upgrades and event streams refused for their
	// Origin (Config.AllowedOrigins).
	RefusedOrigin atomic.Uint64
	// RejectedPerIP counts connections closed at accept because their
	// address was over a per-address limit.
	RejectedPerIP atomic.Uint64
	// HandshakesEvicted counts stalled handshakes closed to make room.
	HandshakesEvicted atomic.Uint64
	// FramesOut and BytesOut count what was written to clients.
	FramesOut atomic.Uint64
	BytesOut  atomic.Uint64
	// FreshDeferred counts fresh state (snapshots) held back because the
	// connection's fresh-state byte bucket was empty.
	FreshDeferred atomic.Uint64
	// Conflated counts queued Conflate frames dropped for slow consumers.
	Conflated atomic.Uint64
	// Replaced counts queued Latest frames replaced by a newer one of their
	// stream before any of it was written.
	Replaced atomic.Uint64
	// WriteDelay is how long the oldest frame of each write had waited in
	// its connection's queue: the server's part of what subscribers see as
	// staleness.
	WriteDelay delay.Histogram

	mu      sync.Mutex
	closes  map[string]uint64    // connections closed by the server, by reason
	errs    map[string]uint64    // internal errors, by operation
	lastLog map[string]time.Time // when each operation's error was last logged
}

func (s *Stats) written(bytes, frames int) {
	s.BytesOut.Add(uint64(bytes))
	s.FramesOut.Add(uint64(frames))
}

func (s *Stats) closed(reason string) {
	if reason == "" {
		return
	}
	s.mu.Lock()
	if s.closes == nil {
		s.closes = make(map[string]uint64)
	}
	s.closes[reason]++
	s.mu.Unlock()
}

// Closes copies the count of connections closed by the server, by reason.
func (s *Stats) Closes() map[string]uint64 { return s.copyOf(&s.closes) }

// Errors copies the count of internal errors (a failed epoll re-arm, a
// socket option that would not set, ...), by operation.
func (s *Stats) Errors() map[string]uint64 { return s.copyOf(&s.errs) }

func (s *Stats) copyOf(m *map[string]uint64) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]uint64, len(*m))
	for k, v := range *m {
		out[k] = v
	}
	return out
}

// errorLogEvery rate-limits the log lines of one operation's errors; every
// error is counted.
const errorLogEvery = time.Second

// internalError counts err under op and reports whether to log it.
func (s *Stats) internalError(op string) (log bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs == nil {
		s.errs, s.lastLog = make(map[string]uint64), make(map[string]time.Time)
	}
	s.errs[op]++
	now := time.Now()
	if now.Sub(s.lastLog[op]) < errorLogEvery {
		return false
	}
	s.lastLog[op] = now
	return true
}

// check counts and logs (rate-limited) err, an internal error of op, if it is
// not nil; c may be nil. It reports whether err was nil.
func (s *Server) check(op string, err error, c *Conn) bool {
	if err == nil {
		return true
	}
	if s.stats.internalError(op) {
		fields := []zap.Field{zap.String("op", op), zap.Error(err)}
		if c != nil {
			fields = append(fields, c.logField())
		}
		s.log.Error("internal error (logged at most once a second per op; see tickerfan_internal_errors_total)", fields...)
	}
	return false
}
