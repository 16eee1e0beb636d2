package bus

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
)

// checkInterval is how often a Follower looks for dead ingests, unanswered
// snapshot requests and stale streams; recovery starts within it.
const checkInterval = 100 * time.Millisecond

// maxBuffered bounds the events a recovering product holds until its snapshot
// arrives; past it the product asks again.
const maxBuffered = 16384

// Follower is the edge side: it follows, per product, one live ingest (the
// lowest id among those whose Beat lists the product, kept while it lives),
// checks every event's epoch and Seq, and hands publish a stream with Seq
// 1, 2, 3, ... per product, as a book.Market would.
//
// A product recovers, from a snapshot it requests from its ingest, on a Seq
// gap, a new epoch of its ingest, a Beat announcing events it never got
// (StaleTimeout), a failover, and after NATS reconnects. While it recovers,
// publish gets an EventStatus offline with the reason; then the snapshot, an
// EventStatus with the ingest's status, and the events that followed it.
//
// Goroutines: the NATS subscriptions' callbacks (owned by the connection,
// stopped by Stop) and the check loop (started by Start, stopped and waited
// for by Stop). mu serializes them all; publish is called with mu held.
type Follower struct {
	nc      *nats.Conn
	cfg     Config
	log     *zap.Logger
	subj    Subjects
	publish func(book.Event)
	inbox   string

	mu       sync.Mutex
	products map[string]*follow // fixed at NewFollower
	order    []*follow          // products in the order given
	ingests  map[string]*ingest
	subs     []*nats.Subscription
	stopped  bool
	// disconnected is set while NATS is down: nothing is chosen or requested.
	disconnected bool

	started time.Time // Start or the last reconnection: choices wait for a Beat of every live ingest
	stop    chan struct{}
	done    chan struct{}

	n followerCounters
}

// ingest is what a Follower knows of one ingest from its Beats.
type ingest struct {
	id       string
	epoch    uint64
	seen     time.Time
	lag      time.Duration         // receipt time minus the last Beat's time
	shared   bool                  // an older epoch's Beats came too (logged once)
	products map[string]ProductSeq // by product, as the last Beat announced
}

type followerCounters struct {
	events, foreign, malformed, gaps, recoveries, failovers, epochs, timeouts, stale, slow atomic.Uint64
	lagNanos                                                                               atomic.Int64
}

// NewFollower returns a Follower of products that hands their events to
// publish. publish must not call back into the Follower.
func NewFollower(nc *nats.Conn, cfg Config, products []string, publish func(book.Event), log *zap.Logger) (*Follower, error) {
	if nc == nil {
		return nil, ErrNoConn
	}
	if len(products) == 0 {
		return nil, ErrNoProducts
	}
	if publish == nil {
		return nil, ErrNoPublish
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.WithDefaults()
	f := &Follower{nc: nc, cfg: cfg, log: log, subj: Subjects{Prefix: cfg.Prefix}, publish: publish,
		inbox: nc.NewRespInbox(), products: map[string]*follow{}, ingests: map[string]*ingest{}}
	for _, id := range products {
		if f.products[id] == nil {
			p := &follow{id: id, state: stateWaiting}
			f.products[id] = p
			f.order = append(f.order, p)
		}
	}
	return f, nil
}

// Start subscribes to the products' events, every Beat and the snapshot
// replies, and starts the check loop. Products start offline ("waiting for
// an ingest") and recover as soon as a Beat names their ingest.
func (f *Follower) Start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.started = now
	for _, p := range f.order {
		f.announce(p, now, false, "waiting for an ingest")
	}
	var events []string
	if len(f.cfg.Products) == 0 && f.cfg.Role == RoleEdge {
		events = []string{f.subj.Events("")}
	} else {
		for _, p := range f.order {
			events = append(events, f.subj.Events(p.id))
		}
	}
	for _, s := range events {
		if err := f.subscribe(s, f.onEvent, true); err != nil {
			return err
		}
	}
	if err := f.subscribe(f.subj.Beat(""), f.onBeat, false); err != nil {
		return err
	}
	if err := f.subscribe(f.inbox, f.onReply, false); err != nil {
		return err
	}
	f.nc.SetDisconnectErrHandler(f.onDisconnect)
	f.nc.SetReconnectHandler(f.onReconnect)
	f.nc.SetErrorHandler(f.onAsyncError)
	f.stop, f.done = make(chan struct{}), make(chan struct{})
	go f.loop()
	return nil
}

// subscribe subscribes handler to subject; limited subscriptions get the
// configured pending limit. mu must be held.
func (f *Follower) subscribe(subject string, handler nats.MsgHandler, limited bool) error {
	sub, err := f.nc.Subscribe(subject, handler)
	if err != nil {
		return err
	}
	if limited {
		if err := sub.SetPendingLimits(f.cfg.PendingMessages, -1); err != nil {
			return err
		}
	}
	f.subs = append(f.subs, sub)
	return nil
}

// Stop unsubscribes, stops the check loop and waits for it. Events in
// flight are dropped; publish is not called after Stop returns.
func (f *Follower) Stop() {
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		return
	}
	f.stopped = true
	for _, s := range f.subs {
		_ = s.Unsubscribe()
	}
	f.mu.Unlock()
	if f.stop != nil {
		close(f.stop)
		<-f.done
	}
}

// loop runs check every checkInterval until Stop. Started by Start.
func (f *Follower) loop() {
	defer close(f.done)
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case now := <-t.C:
			f.mu.Lock()
			if !f.stopped {
				f.check(now)
			}
			f.mu.Unlock()
		}
	}
}

// onEvent handles one event message. Runs on the subscription's goroutine.
func (f *Follower) onEvent(m *nats.Msg) {
	epoch, ev, err := DecodeEvent(m.Data)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if err != nil {
		f.n.malformed.Add(1)
		return
	}
	p := f.products[ev.Product]
	if p == nil {
		return
	}
	if p.source == "" || epoch != p.epoch {
		f.n.foreign.Add(1)
		return
	}
	f.n.events.Add(1)
	f.n.lagNanos.Store(int64(time.Since(ev.Time)))
	f.handle(p, ev)
}

// onReply handles a snapshot reply. Runs on the inbox subscription's goroutine.
func (f *Follower) onReply(m *nats.Msg) {
	epoch, snap, trades, err := DecodeReply(m.Data)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if err != nil {
		f.n.malformed.Add(1)
		return
	}
	if p := f.products[snap.Product]; p != nil && p.state == stateRecovering && epoch == p.epoch {
		f.restore(p, snap, trades)
	}
}

// onBeat records an ingest's Beat. Runs on the beat subscription's goroutine.
func (f *Follower) onBeat(m *nats.Msg) {
	b, err := DecodeBeat(m.Data)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	if err != nil {
		f.n.malformed.Add(1)
		return
	}
	now := time.Now()
	in := f.ingests[b.ID]
	if in == nil {
		in = &ingest{id: b.ID}
		f.ingests[b.ID] = in
		f.log.Info("ingest seen", zap.String("ingest", b.ID), zap.Uint64("epoch", b.Epoch))
	}
	if b.Epoch < in.epoch && now.Sub(in.seen) < f.cfg.IngestTimeout {
		f.n.malformed.Add(1) // an older epoch beside a live newer one: two ingests share an id
		if !in.shared {
			in.shared = true
			f.log.Warn("two ingests share an id; following the newest", zap.String("ingest", b.ID))
		}
		return
	}
	restarted := in.epoch != 0 && in.epoch != b.Epoch
	if restarted {
		f.n.epochs.Add(1)
		f.log.Info("ingest restarted", zap.String("ingest", b.ID), zap.Uint64("epoch", b.Epoch))
	}
	in.epoch, in.seen, in.lag = b.Epoch, now, now.Sub(b.Time)
	in.products = make(map[string]ProductSeq, len(b.Products))
	for _, ps := range b.Products {
		in.products[ps.Product] = ps
	}
	for _, p := range f.order {
		if p.source != b.ID {
			continue
		}
		if restarted {
			p.epoch = b.Epoch
			f.recover(p, now, "ingest "+b.ID+" restarted")
			continue
		}
		if ps, ok := in.products[p.id]; ok {
			p.announced(ps.Seq, now)
		}
	}
	f.check(now)
}

// onDisconnect takes every product offline: nothing reaches it meanwhile.
func (f *Follower) onDisconnect(_ *nats.Conn, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.log.Warn("nats disconnected; products offline until it is back", zap.Error(err))
	f.disconnected = true
	now := time.Now()
	for _, p := range f.order {
		p.state = stateWaiting
		p.buf = p.buf[:0]
		f.announce(p, now, false, "nats disconnected")
	}
}

// onReconnect recovers every product: what was published meanwhile is lost.
func (f *Follower) onReconnect(*nats.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.disconnected = false
	now := time.Now()
	f.started = now // hear every live ingest's Beat again before choosing
	for _, p := range f.order {
		if p.source != "" {
			f.recover(p, now, "nats reconnected")
		}
	}
}

// onAsyncError counts the events NATS dropped for a slow consumer.
func (f *Follower) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrSlowConsumer) {
		f.n.slow.Add(1)
		return
	}
	f.log.Warn("nats error", zap.Error(err))
}
