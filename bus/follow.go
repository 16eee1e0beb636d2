package bus

import (
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
)

// followState is where a followed product stands.
type followState uint8

const (
	// stateWaiting: no live ingest serves the product (or NATS is down).
	stateWaiting followState = iota
	// stateRecovering: a snapshot was requested; events are buffered.
	stateRecovering
	// stateFollowing: events are applied as they come, Seq by Seq.
	stateFollowing
)

func (s followState) String() string {
	switch s {
	case stateWaiting:
		return "waiting"
	case stateRecovering:
		return "recovering"
	}
	return "following"
}

// follow is one product as a Follower follows it. Follower.mu guards it.
type follow struct {
	id     string
	state  followState
	source string // the ingest followed; "" before the first
	epoch  uint64 // the source's epoch
	seq    uint64 // ingest Seq of the last event applied
	local  uint64 // Seq of the last event handed to publish

	requested time.Time    // when the last snapshot request went out
	buf       []book.Event // events of the source while recovering

	beatSeq   uint64    // the highest Seq the source's Beats announced
	behind    time.Time // since when seq < beatSeq without progress; zero when caught up
	behindSeq uint64    // seq at behind

	lastTradeID int64 // of the last trade handed to publish

	offline bool   // the last status handed to publish was offline
	status  string // and its message
	reason  string // why the product last recovered, for Stats
	lastAt  time.Time
}

// announced records that the source's Beat says it published up to seq.
func (p *follow) announced(seq uint64, now time.Time) {
	if seq > p.beatSeq {
		p.beatSeq = seq
	}
	if p.state == stateFollowing && p.seq < p.beatSeq && p.behind.IsZero() {
		p.behind, p.behindSeq = now, p.seq
	}
}

// stale reports whether the product has stayed behind its source's Beat for
// d without applying a single event: the stream's tail was lost. A stream
// that makes progress is only late (a busy edge), and its clock restarts.
func (p *follow) stale(now time.Time, d time.Duration) bool {
	if p.state != stateFollowing || p.behind.IsZero() || now.Sub(p.behind) < d {
		return false
	}
	if p.seq > p.behindSeq {
		p.behind, p.behindSeq = now, p.seq
		return false
	}
	return true
}

// handle applies or buffers one event of the product's source. mu must be held.
func (f *Follower) handle(p *follow, ev book.Event) {
	switch p.state {
	case stateRecovering:
		if len(p.buf) >= maxBuffered {
			f.recover(p, time.Now(), "too many events while recovering")
			return
		}
		p.buf = append(p.buf, ev)
	case stateFollowing:
		switch {
		case ev.Seq <= p.seq:
			// a duplicate, or an event the snapshot already holds
		case ev.Seq != p.seq+1:
			f.n.gaps.Add(1)
			f.recover(p, time.Now(), fmt.Sprintf("gap: expected seq %d, got %d", p.seq+1, ev.Seq))
		default:
			f.apply(p, ev)
		}
	}
}

// apply hands the next event of the source to publish. mu must be held.
func (f *Follower) apply(p *follow, ev book.Event) {
	p.seq = ev.Seq
	if p.seq >= p.beatSeq {
		p.behind = time.Time{}
	}
	switch ev.Kind {
	case book.EventStatus:
		p.offline, p.status = !ev.Online, ev.Message
	case book.EventTrade:
		p.lastTradeID = ev.Trade.TradeID
	}
	p.lastAt = ev.Time
	f.emit(p, ev)
}

// emit hands ev to publish with the product's next local Seq. mu must be held.
func (f *Follower) emit(p *follow, ev book.Event) {
	p.local++
	ev.Seq = p.local
	f.publish(ev)
}

// announce hands publish a status event, unless it is the one last handed.
// mu must be held.
func (f *Follower) announce(p *follow, now time.Time, online bool, msg string) {
	if p.local > 0 && p.offline == !online && p.status == msg {
		return
	}
	p.offline, p.status = !online, msg
	f.emit(p, book.Event{Kind: book.EventStatus, Product: p.id, Time: now, Online: online, Message: msg})
}

// recover takes the product offline and requests a snapshot from its
// source. mu must be held.
func (f *Follower) recover(p *follow, now time.Time, reason string) {
	f.n.recoveries.Add(1)
	f.log.Info("recovering product", zap.String("product", p.id), zap.String("ingest", p.source), zap.String("reason", reason))
	p.state, p.reason = stateRecovering, reason
	p.buf = p.buf[:0]
	p.behind, p.beatSeq = time.Time{}, 0
	f.announce(p, now, false, "recovering: "+reason)
	f.request(p, now)
}

// request asks the source for the product's snapshot. mu must be held.
func (f *Follower) request(p *follow, now time.Time) {
	p.requested = now
	req := AppendRequest(nil, p.id, p.lastTradeID)
	if err := f.nc.PublishRequest(f.subj.Snapshot(p.source, p.id), f.inbox, req); err != nil {
		f.log.Debug("snapshot request failed", zap.String("product", p.id), zap.Error(err))
	}
}

// restore applies a snapshot reply of the source's epoch: the trades the
// product missed (so matches and the trade history have no hole), the
// snapshot, the status, then the events buffered after it. mu must be held.
func (f *Follower) restore(p *follow, snap book.Event, trades []book.Event) {
	for _, ev := range trades {
		if ev.Trade.TradeID > p.lastTradeID {
			p.lastTradeID = ev.Trade.TradeID
			f.emit(p, ev)
		}
	}
	p.seq, p.state = snap.Seq, stateFollowing
	p.lastAt = snap.Time
	online, msg := snap.Online, snap.Message
	snap.Online, snap.Message = false, ""
	f.emit(p, snap)
	p.offline, p.status = !online, msg
	f.emit(p, book.Event{Kind: book.EventStatus, Product: p.id, Time: time.Now(), Online: online, Message: msg})
	buf := p.buf
	p.buf = nil
	for _, ev := range buf {
		if p.state != stateFollowing {
			break
		}
		f.handle(p, ev)
	}
	if p.seq < p.beatSeq && p.behind.IsZero() {
		p.behind, p.behindSeq = time.Now(), p.seq
	}
	f.log.Info("product recovered", zap.String("product", p.id), zap.String("ingest", p.source), zap.Uint64("seq", p.seq))
}

// check fails over from dead ingests, starts following where an ingest
// appeared, repeats unanswered requests and recovers stale streams. mu must
// be held.
func (f *Follower) check(now time.Time) {
	if f.disconnected || now.Sub(f.started) < f.cfg.HeartbeatInterval*3/2 {
		return // down, or not yet heard every live ingest's Beat
	}
	for _, p := range f.order {
		if !f.alive(f.ingests[p.source], p.id, now) || p.state == stateWaiting {
			f.choose(p, now)
			continue
		}
		switch {
		case p.state == stateFollowing && p.offline && f.onlineElsewhere(p, now):
			f.choose(p, now)
		case p.state == stateRecovering && now.Sub(p.requested) >= f.cfg.SnapshotTimeout:
			f.n.timeouts.Add(1)
			f.request(p, now)
		case p.stale(now, f.cfg.StaleTimeout):
			f.n.stale.Add(1)
			f.recover(p, now, fmt.Sprintf("stale: ingest announced seq %d, got %d", p.beatSeq, p.seq))
		}
	}
}

// onlineElsewhere reports whether another live ingest serves p online.
func (f *Follower) onlineElsewhere(p *follow, now time.Time) bool {
	b := f.best(p.id, now)
	return b != nil && b.id != p.source && b.products[p.id].Online
}

// alive reports whether in sent a Beat within IngestTimeout listing product.
func (f *Follower) alive(in *ingest, product string, now time.Time) bool {
	if in == nil || now.Sub(in.seen) >= f.cfg.IngestTimeout {
		return false
	}
	_, ok := in.products[product]
	return ok
}

// best returns the ingest a product should follow: among the live ones
// serving it, those where it is online before those where it is not, the
// lowest id first; nil when none lives.
func (f *Follower) best(product string, now time.Time) *ingest {
	var best *ingest
	for _, in := range f.ingests {
		if !f.alive(in, product, now) {
			continue
		}
		if best == nil {
			best = in
			continue
		}
		on, bestOn := in.products[product].Online, best.products[product].Online
		if on && !bestOn || on == bestOn && in.id < best.id {
			best = in
		}
	}
	return best
}

// choose makes p follow the best ingest, or wait. mu must be held.
//
// Why the lowest id, kept while it lives and serves the product online:
// every edge that started with the same ingests alive follows the same one
// (the first choice waits 1.5 beats to hear them all), and no edge leaves a
// live, online ingest, so a restarted ingest (no book until its upstream
// resyncs; it lists the product only then) does not take edges back. An
// ingest whose upstream fails (the product offline there) loses its edges to
// one where the product is online. A lease in a JetStream KV would give the
// same single-leader view at the price of JetStream on the NATS servers; the
// beats need plain NATS and converge within IngestTimeout.
func (f *Follower) choose(p *follow, now time.Time) {
	best := f.best(p.id, now)
	if best == nil {
		if p.state != stateWaiting {
			f.log.Warn("no live ingest for product", zap.String("product", p.id), zap.String("was", p.source))
			p.state = stateWaiting
			p.buf = p.buf[:0]
		}
		f.announce(p, now, false, "no live ingest")
		return
	}
	reason := "following ingest " + best.id
	if p.source != "" && p.source != best.id {
		f.n.failovers.Add(1)
		reason = "failover from ingest " + p.source + " to " + best.id
	}
	p.source, p.epoch = best.id, best.epoch
	f.recover(p, now, reason)
}
