package fanout

import (
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
// and subscribe timeouts, slow consumers and stuck closes. The Server starts
// it in Serve and stops it in Shutdown.
func (s *Server) sweep() {
	defer s.wg.Done()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	var conns []*Conn
	for {
		select {
		case <-s.stopSweep:
			return
		case now := <-tick.C:
			s.clock.Store(uint32(now.Sub(s.born).Milliseconds())) // ages compare by wrapping subtraction
			conns = s.registry.all(conns)
			for _, c := range conns {
				s.check(c, now.UnixNano())
			}
			clear(conns)
		}
	}
}

// check applies every time limit to one connection.
func (s *Server) check(c *Conn, now int64) {
	cfg := &s.cfg
	c.mu.Lock()
	state, stalled, closingAt := c.state, c.stalled, c.closingAt
	subscribed := c.subscribed
	if state == stateOpen {
		c.conflateIfBehind(s.clock.Load())
	}
	c.mu.Unlock()
	switch {
	case state == stateClosing:
		if now-closingAt > int64(closingGrace) {
			c.finalize()
		}
		return
	case state == stateClosed:
		return
	case stalled != 0 && now-stalled > int64(cfg.WriteTimeout):
		c.closeWith(errSlow)
		c.finalize()
		return
	case !subscribed && cfg.SubscribeTimeout > 0 && now-c.born > int64(cfg.SubscribeTimeout):
		c.closeWith(errNoSubscribe)
		return
	}
	silent := now - c.lastRead.Load()
	if silent < int64(cfg.PingInterval) {
		return
	}
	sent := c.pingSent.Load()
	switch {
	case sent == 0:
		c.pingSent.Store(now)
		c.send(outFrame{b: pingFrame, kind: kindControl})
	case now-sent > int64(cfg.PongTimeout):
		c.closeWith(errPingTimeout)
	}
}
