package bench

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// liveStats is what the progress line shows, counted since its last sample.
type liveStats struct {
	msgs, bytes int64
	lat         *hdrhistogram.Histogram
}

// reader is one of the swarm's few reader goroutines. The poller schedules
// a ready subscriber on the reader its descriptor maps to, so a subscriber
// is always served by the same reader, one turn at a time. The Swarm starts
// and stops it (run).
type reader struct {
	sw *Swarm

	// mu guards the counters below; held for the parsing of one read, never
	// across a syscall.
	mu            sync.Mutex
	tallies       [numGroups]*tally
	live          liveStats
	subscribeHist *hdrhistogram.Histogram
	bySend        [numGroups]int64 // upstream messages received that were sent in the send window
	intern        interner         // the spellings of its subscribers' book levels

	qmu   sync.Mutex // guards queue
	queue []*conn
	spare []*conn       // the run goroutine's
	wake  chan struct{} // capacity 1: work was queued
}

func newReader(sw *Swarm) *reader {
	r := &reader{sw: sw, wake: make(chan struct{}, 1)}
	for g := range r.tallies {
		r.tallies[g] = newTally(len(sw.products))
	}
	return r
}

// schedule queues c for a turn. It never blocks: the poller calls it.
func (r *reader) schedule(c *conn) {
	r.qmu.Lock()
	r.queue = append(r.queue, c)
	r.qmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run serves queued subscribers until stop is closed. Under a server that
// never stops sending, the queue never empties, so stop is checked before
// every batch, not only when idle.
func (r *reader) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		r.qmu.Lock()
		batch := r.queue
		if len(batch) == 0 {
			r.qmu.Unlock()
			select {
			case <-r.wake:
				continue
			case <-stop:
				return
			}
		}
		r.queue = r.spare[:0] // the two slices swap roles; never share
		r.qmu.Unlock()
		for i, c := range batch {
			r.serve(c)
			batch[i] = nil
		}
		r.spare = batch[:0]
	}
}

// serve reads what c's socket holds without blocking, accounts for every
// complete message and re-arms c (or parks a slow subscriber whose budget is
// spent until the next slow tick). Hot path.
func (r *reader) serve(c *conn) {
	if c.closed.Load() {
		return
	}
	slow := c.group == groupSlow && !r.sw.slowEnded.Load()
	for range readRounds {
		p := c.in.Free(1)
		if slow {
			b := int(c.budget.Load())
			if b <= 0 {
				break
			}
			p = p[:min(len(p), b)]
		}
		n, err := c.read(p)
		if err == unix.EAGAIN {
			break
		}
		if err != nil || n == 0 {
			detail := "connection closed by server without a close frame"
			if err != nil {
				detail = "read: " + err.Error()
			}
			c.close(closeEOF, detail)
			return
		}
		recv := time.Now().UnixNano()
		c.in.Commit(n)
		c.budget.Add(int64(-n))
		r.mu.Lock()
		err = c.parse(r.tallies[c.group], &r.live, recv)
		r.mu.Unlock()
		if c.pong != nil {
			c.sendPong()
		}
		if err != nil {
			r.fail(c, err)
			return
		}
	}
	if len(c.in.Bytes()) == 0 {
		c.in.Release()
	}
	if slow && c.budget.Load() <= 0 {
		r.sw.park(c)
		return
	}
	c.resume()
}

// fail closes c after a close frame or a protocol error.
func (r *reader) fail(c *conn, err error) {
	var sc *serverClose
	if errors.As(err, &sc) {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.nc.Write(clientFrame(ws.OpClose, ws.NewCloseFrameBody(sc.code, "")))
		c.close(closeServer, fmt.Sprintf("closed by server: %d %s", sc.code, sc.reason))
		return
	}
	c.close(closeProtocol, err.Error())
}

// cut returns the tallies of the window ending now and starts new ones.
func (r *reader) cut() [numGroups]*tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.tallies
	for g := range r.tallies {
		r.tallies[g] = newTally(len(r.sw.products))
	}
	return old
}

// sample returns the live counters and resets them.
func (r *reader) sample() liveStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.live
	r.live = liveStats{}
	return s
}
