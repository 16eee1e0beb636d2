package transport

import (
	"cmp"
	"slices"
	"time"

	"github.com/gobwas/ws"
)

// sweepEvery is how often the sweeper walks the connections; timeouts are
// honoured to this granularity.
const sweepEvery = 250 * time.Millisecond

// closingGrace is how long a closing connection may take to flush its close
// frame before the socket is closed anyway.
const closingGrace = 2 * time.Second

var pingFrame = controlFrame(ws.OpPing, nil)

// sweep is the one goroutine that enforces time on connections: pings, pong
// and ready timeouts, slow consumers and stuck closes. The Server's gate
// starts it in Serve; Shutdown stops it (stopSweep) and waits for it.
func (s *Server) sweep() {
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	var conns []*Conn
	for {
		select {
		case <-s.stopSweep:
			return
		case <-s.overload:
			conns = s.shed(conns)
		case now := <-tick.C:
			conns = s.registry.all(conns)
			for _, c := range conns {
				s.checkTimes(c, now.UnixNano())
			}
			clear(conns)
			if cap(conns) > 1024 && 4*len(conns) < cap(conns) {
				conns = nil // a flood's copy is not kept
			}
			s.ips.prune(now)
		}
	}
}

// shed enforces max_total_queue_bytes: while the total is over it, it
// closes the connections with the largest queues, with 1008 "server
// overloaded", until what stays queued is under 90% of the budget. A close
// drops what no write has started on, so the memory is free at once. The
// largest laggards go first because they hold the most and are the furthest
// behind; everyone else keeps flowing. Runs on the sweeper.
func (s *Server) shed(conns []*Conn) []*Conn {
	budget := s.cfg.MaxTotalQueueBytes
	if s.queued.Load() <= budget {
		return conns
	}
	conns = s.registry.all(conns)
	sizes := make(map[*Conn]int, len(conns))
	for _, c := range conns {
		c.mu.Lock()
		sizes[c] = c.outBytes
		c.mu.Unlock()
	}
	slices.SortFunc(conns, func(a, b *Conn) int { return cmp.Compare(sizes[b], sizes[a]) })
	total := s.queued.Load()
	for _, c := range conns {
		if total <= budget*9/10 || sizes[c] == 0 {
			break
		}
		c.Close(ErrOverloaded)
		total -= int64(sizes[c])
	}
	clear(conns)
	return conns
}

// checkTimes applies every time limit to one connection.
func (s *Server) checkTimes(c *Conn, now int64) {
	cfg := &s.cfg
	c.mu.Lock()
	state, stalled, closingAt, ready := c.state, c.stalled, c.closingAt, c.ready
	flush := state == stateOpen && (c.conflateIfBehind(s.clock.Load()) || c.resyncDue())
	c.mu.Unlock()
	if flush {
		c.scheduleFlush()
	}
	switch {
	case state == stateClosing:
		if now-closingAt > int64(closingGrace) {
			c.finalize()
		}
		return
	case state == stateClosed:
		return
	case stalled != 0 && now-stalled > int64(cfg.WriteTimeout):
		c.Close(ErrSlow)
		c.finalize()
		return
	case !ready && cfg.ReadyTimeout > 0 && now-c.born > int64(cfg.ReadyTimeout):
		c.Close(cfg.ReadyError)
		return
	}
	if p := c.partialSince.Load(); p != 0 && now-p > int64(cfg.FrameTimeout) {
		c.Close(ErrFrameTimeout)
		return
	}
	silent := now - c.lastRead.Load()
	if silent < int64(cfg.PingInterval) {
		return
	}
	sent := c.pingSent.Load()
	switch {
	case c.sse != nil:
		c.lastRead.Store(now) // an event stream answers nothing: the ping is a keepalive comment
		c.Send(pingFrame, Control, 0)
	case sent == 0:
		c.pingSent.Store(now)
		c.Send(pingFrame, Control, 0)
	case now-sent > int64(cfg.PongTimeout):
		c.Close(ErrPingTimeout)
	}
}
