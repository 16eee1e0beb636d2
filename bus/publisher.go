package bus

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// Publisher is the ingest side: it publishes every event of its products on
// their subjects, answers snapshot requests from the Market's books, and
// publishes a Beat every Config.HeartbeatInterval. A product appears in the
// Beat once its first snapshot was published: until then the ingest has no
// book to serve, and edges follow another ingest or wait.
//
// Publish is safe for concurrent use (one caller per product, as Market
// calls it). Start starts the beat goroutine and the snapshot subscription;
// Stop stops and waits for both.
type Publisher struct {
	nc      *nats.Conn
	cfg     Config
	log     *zap.Logger
	subj    Subjects
	epoch   uint64
	streams map[string]*stream // fixed at NewPublisher: read without a lock
	bufs    sync.Pool

	market *book.Market
	sub    *nats.Subscription
	stop   chan struct{}
	done   chan struct{}

	published, failed, snapshots atomic.Uint64
}

// stream is one product's publishing state.
type stream struct {
	product string
	subject string
	seq     atomic.Uint64 // Seq of the last event published

	synced atomic.Bool // a snapshot was published: the book is the upstream's

	mu      sync.Mutex // guards the fields below
	known   bool       // a status event was seen
	online  bool
	message string
	trades  []keptTrade // the last keptTrades trades, a ring
	next    int         // where the next trade goes in trades
}

// keptTrade is what a stream keeps of a trade event: not its ticker, which
// would cost four times as much.
type keptTrade struct {
	seq         uint64
	upstreamSeq int64
	at          time.Time
	trade       model.Trade
}

// keep adds a trade event to the ring. mu must be held.
func (s *stream) keep(ev *book.Event) {
	k := keptTrade{seq: ev.Seq, upstreamSeq: ev.UpstreamSeq, at: ev.Time, trade: ev.Trade}
	if len(s.trades) < keptTrades {
		s.trades = append(s.trades, k)
		return
	}
	s.trades[s.next] = k
	s.next = (s.next + 1) % keptTrades
}

// tradesAfter returns, as trade events, the kept trades of snap's product
// with an id above after that snap includes (a Seq up to its Seq), oldest
// first. Each one's ticker is snap's with the trade's id, price, size, taker
// side and time: the statistics and best bid and ask of the past are not kept.
func (s *stream) tradesAfter(after int64, snap *book.Event) []book.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []book.Event
	for i := range s.trades {
		k := &s.trades[(s.next+i)%len(s.trades)]
		if k.trade.TradeID <= after || k.seq > snap.Seq {
			continue
		}
		tk := snap.Ticker
		tk.TradeID, tk.Price, tk.LastSize, tk.Side, tk.Time = k.trade.TradeID, k.trade.Price, k.trade.Size, k.trade.Side.Opposite(), k.at
		out = append(out, book.Event{Kind: book.EventTrade, Product: s.product, Seq: k.seq, Time: k.at,
			UpstreamSeq: k.upstreamSeq, Trade: k.trade, Ticker: tk, LastTradeID: k.trade.TradeID})
	}
	return out
}

// NewPublisher returns a Publisher for products, a map from product id to
// the name of the feed that provides it. Its epoch is the current time in
// nanoseconds, so every start of an ingest has a new, larger one.
func NewPublisher(nc *nats.Conn, cfg Config, products map[string]string, log *zap.Logger) (*Publisher, error) {
	if nc == nil {
		return nil, ErrNoConn
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.WithDefaults()
	p := &Publisher{nc: nc, cfg: cfg, log: log, subj: Subjects{Prefix: cfg.Prefix},
		epoch: uint64(time.Now().UnixNano()), streams: make(map[string]*stream, len(products))}
	for id, feed := range products {
		p.streams[id] = &stream{product: id, subject: p.subj.Event(feed, id)}
	}
	p.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return p, nil
}

// Epoch returns the epoch every event of this Publisher carries.
func (p *Publisher) Epoch() uint64 { return p.epoch }

// ID returns the ingest's id (Config.IngestID).
func (p *Publisher) ID() string { return p.cfg.IngestID }

// Publish encodes ev once and publishes it on its product's subject; events
// of other products are ignored. It does not keep ev. It never blocks on the
// network: NATS buffers, and a failed publish is counted and logged (the
// edges see the gap and recover).
func (p *Publisher) Publish(ev book.Event) {
	s := p.streams[ev.Product]
	if s == nil {
		return
	}
	switch ev.Kind {
	case book.EventStatus:
		s.mu.Lock()
		s.known, s.online, s.message = true, ev.Online, ev.Message
		s.mu.Unlock()
	case book.EventTrade:
		s.mu.Lock()
		s.keep(&ev)
		s.mu.Unlock()
	}
	bp := p.bufs.Get().(*[]byte)
	*bp = AppendEvent((*bp)[:0], p.epoch, &ev)
	err := p.nc.Publish(s.subject, *bp)
	p.bufs.Put(bp)
	s.seq.Store(ev.Seq)
	if ev.Kind == book.EventSnapshot {
		s.synced.Store(true)
	}
	if err != nil {
		if p.failed.Add(1) == 1 || p.failed.Load()%1000 == 0 {
			p.log.Warn("publish failed; edges will recover", zap.Error(err), zap.Uint64("failed", p.failed.Load()))
		}
		return
	}
	p.published.Add(1)
}

// Start answers snapshot requests from market and starts beating. It fails
// when the subscription cannot be made (a closed connection).
func (p *Publisher) Start(market *book.Market) error {
	p.market = market
	sub, err := p.nc.Subscribe(p.subj.Snapshot(p.cfg.IngestID, ""), p.answer)
	if err != nil {
		return err
	}
	p.sub = sub
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.beat()
	return nil
}

// Stop stops answering and beating, and flushes what is buffered.
func (p *Publisher) Stop() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	_ = p.sub.Unsubscribe()
	_ = p.nc.FlushTimeout(time.Second)
}

// answer replies to a snapshot request with the product's current book, its
// Seq and status, and the kept trades the requester has not seen (see
// reply.go); a product without a book yet gets no answer. Runs on the
// subscription's goroutine.
func (p *Publisher) answer(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	id, after, err := DecodeRequest(m.Data)
	if err != nil {
		return
	}
	s := p.streams[id]
	if s == nil || !s.synced.Load() {
		return // no book yet: the edge asks again, or another ingest
	}
	ev, ok := p.market.Snapshot(id)
	if !ok {
		return
	}
	s.mu.Lock()
	ev.Online, ev.Message = !s.known || s.online, s.message
	s.mu.Unlock()
	trades := s.tradesAfter(after, &ev)
	if err := p.nc.Publish(m.Reply, AppendReply(nil, p.epoch, &ev, trades)); err != nil {
		p.log.Warn("snapshot reply failed", zap.String("product", id), zap.Error(err))
		return
	}
	p.snapshots.Add(1)
}

// beat publishes the Beat until Stop. Started by Start.
func (p *Publisher) beat() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.HeartbeatInterval)
	defer t.Stop()
	subject := p.subj.Beat(p.cfg.IngestID)
	ids := make([]string, 0, len(p.streams))
	for id := range p.streams {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b := Beat{ID: p.cfg.IngestID, Epoch: p.epoch, Products: make([]ProductSeq, 0, len(ids))}
	var buf []byte
	for {
		b.Time = time.Now()
		b.Products = b.Products[:0]
		for _, id := range ids {
			if s := p.streams[id]; s.synced.Load() {
				b.Products = append(b.Products, ProductSeq{Product: id, Seq: s.seq.Load(), Online: s.isOnline()})
			}
		}
		buf = AppendBeat(buf[:0], &b)
		_ = p.nc.Publish(subject, buf)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

// PublisherStats are a Publisher's counters.
type PublisherStats struct {
	ID        string `json:"ingest_id"`
	Epoch     uint64 `json:"epoch"`
	Published uint64 `json:"events_published"`
	Failed    uint64 `json:"publish_failures"`
	Snapshots uint64 `json:"snapshots_served"`
}

// Stats returns the Publisher's counters. Safe at any time.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{ID: p.cfg.IngestID, Epoch: p.epoch, Published: p.published.Load(),
		Failed: p.failed.Load(), Snapshots: p.snapshots.Load()}
}

// isOnline reports the product's status as its feed last reported it;
// online when the feed reports none.
func (s *stream) isOnline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.known || s.online
}
