package coinbase

import (
	"slices"
	"strconv"
	"time"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/model"
	"go.uber.org/zap"
)

// normalizer turns the messages of one Coinbase-protocol session into
// Updates: it keeps, per product, whether the book is in sync and the
// sequences and trade ids seen, detects gaps, and says which books need a
// fresh snapshot. The live adapter (Coinbase) and Replay share it, so a
// recording replays through exactly the code that handled it live.
//
// Gaps it detects (each counted, logged and followed by a resync of the
// product's book when level2 is subscribed):
//   - level2: the tickerfan extension `sequence` on snapshot and l2update,
//     which must run on by exactly 1;
//   - ticker, matches, heartbeat: a `sequence` that goes back. A forward
//     jump is no gap there: on Coinbase these channels see a subset of the
//     product's sequence (the full channel has the rest), and a tickerfan
//     passes its own upstream's sequence through, so jumps are normal;
//   - matches: a trade_id that skips (Coinbase numbers each product's trades
//     1 by 1) or goes back; ignore_trade_gaps turns the skip check off.
//
// Trades: with matches subscribed, each match is a KindTrade (side: the
// maker's) and each ticker a KindStats with its 24 h statistics; without
// matches, a ticker with a new trade_id is a KindTrade whose side is the
// opposite of the ticker's taker side, carrying the statistics. Trades are
// deduplicated by trade_id across reconnects (last_match and the first ticker
// of a session repeat the last trade).
//
// Status: with the status channel subscribed, a product the upstream calls
// anything but online is offline here too (a relay shows its core's
// outages); otherwise a product is online while its book is in sync, or,
// without level2, while connected.
//
// Level2 sequences are not passed on as Update.Sequence: they number the
// upstream's level2 stream, not the product's sequence that ticker, match and
// heartbeat share, and mixing them would make heartbeats go backwards.
//
// Not safe for concurrent use: the feed's Run goroutine owns it.
type normalizer struct {
	log    *zap.Logger
	tr     *feed.Tracker
	emit   func(model.Update)
	byUp   map[string]*cbProduct
	prods  []*cbProduct
	ch     channelSet
	msg    cbMessage
	logs   map[string]*logSampler
	shift  time.Duration // added to every time a message carries (replay)
	now    time.Time     // receive time of the message being handled
	live   bool          // the feed has been live once
	wait   int           // products waiting for a snapshot
	resync []*cbProduct  // books that need a fresh snapshot, for the owner

	ignoreTradeGaps bool
	ignoreUnknown   bool // skip other products silently (a replay of a wider recording)
}

// channelSet is what a session subscribed.
type channelSet struct {
	level2  string // "level2", "level2_batch" or "" when no book is kept
	ticker  bool
	matches bool
}

func newChannelSet(chs []string) channelSet {
	var s channelSet
	for _, ch := range chs {
		switch ch {
		case ChannelLevel2, ChannelLevel2Batch:
			s.level2 = ch
		case ChannelTicker:
			s.ticker = true
		case ChannelMatches:
			s.matches = true
		}
	}
	return s
}

// cbProduct is one product's sync state.
type cbProduct struct {
	id, upstream string
	synced       bool      // a snapshot was applied in this session and no gap since
	since        time.Time // when it started waiting for a snapshot
	online       bool      // the last KindStatus said online
	upDown       string    // why the upstream's status channel says it is not online; "" when it is
	l2Seq        int64     // last level2 extension sequence, when l2SeqOK
	l2SeqOK      bool
	seq          [3]int64 // last sequence on ticker, matches, heartbeat
	sessionTrade int64    // last trade id seen in this session
	lastTrade    int64    // last trade id emitted
	seqOffset    int64    // added to sequences and trade ids (replay loops)
	tradeOffset  int64
	maxSeq       int64 // largest sequence and trade id of the current pass
	maxTrade     int64
}

// Indexes of cbProduct.seq.
const (
	seqTicker = iota
	seqMatches
	seqHeartbeat
)

var seqChannels = [3]string{ChannelTicker, ChannelMatches, ChannelHeartbeat}

func newNormalizer(products []string, upstream func(string) string, tr *feed.Tracker, log *zap.Logger) *normalizer {
	n := &normalizer{log: log, tr: tr, byUp: map[string]*cbProduct{}, logs: map[string]*logSampler{}}
	for _, id := range products {
		p := &cbProduct{id: id, upstream: upstream(id)}
		n.prods = append(n.prods, p)
		n.byUp[p.upstream] = p
	}
	return n
}

// reset starts a session with channels, received at now: every book waits
// for its snapshot (when level2 is subscribed) and sequences start over.
func (n *normalizer) reset(channels []string, now time.Time) {
	n.ch = newChannelSet(channels)
	n.resync, n.wait = n.resync[:0], 0
	for _, p := range n.prods {
		p.synced, p.l2SeqOK, p.seq, p.sessionTrade, p.upDown = false, false, [3]int64{}, 0, ""
		if n.ch.level2 != "" {
			p.since = now
			n.wait++
		}
	}
	n.updateState()
}

// disconnect ends a session: every product goes offline with message.
func (n *normalizer) disconnect(message string, now time.Time) {
	n.now = now
	for _, p := range n.prods {
		n.setOnline(p, false, message)
	}
}

// nextPass prepares a replay's next pass over the same file: sequences and
// trade ids continue from the previous pass, so they keep increasing.
func (n *normalizer) nextPass() {
	for _, p := range n.prods {
		p.seqOffset += p.maxSeq
		p.tradeOffset += p.maxTrade
		p.maxSeq, p.maxTrade, p.lastTrade = 0, 0, 0
	}
}

// handle normalizes one upstream message received at recv, the time given
// to updates whose message carries none. The caller counts the message.
func (n *normalizer) handle(raw []byte, recv time.Time) {
	n.now = recv
	m := &n.msg
	if err := decodeMessage(raw, m); err != nil {
		n.drop(err, raw)
		return
	}
	switch m.Type {
	case "subscriptions":
		n.onSubscriptions()
		return
	case "status":
		n.onStatus(m)
		return
	case "error":
		n.drop(reject(feed.ReasonUpstreamError, m.Message+": "+m.Reason), raw)
		return
	case "snapshot", "l2update", "ticker", "match", "last_match", "heartbeat":
	default:
		n.drop(reject(feed.ReasonUnknownType, "type "+quoteShort(m.Type)), raw)
		return
	}
	p := n.byUp[m.ProductID]
	if p == nil {
		if m.ProductID == "" {
			n.drop(reject(feed.ReasonBadField, "no product_id"), raw)
		} else if !n.ignoreUnknown {
			n.drop(reject(feed.ReasonUnknownProduct, "product_id "+quoteShort(m.ProductID)), raw)
		}
		return
	}
	if err := n.dispatch(p, m); err != nil {
		n.drop(err, raw)
		if m.Type == "l2update" || m.Type == "snapshot" {
			n.requestResync(p, "malformed "+m.Type)
		}
		return
	}
	if n.ch.level2 == "" && !p.online {
		n.setOnline(p, true, "")
		n.updateState()
	}
}

func (n *normalizer) dispatch(p *cbProduct, m *cbMessage) *decodeError {
	switch m.Type {
	case "snapshot":
		return n.onSnapshot(p, m)
	case "l2update":
		return n.onL2Update(p, m)
	case "ticker":
		return n.onTicker(p, m)
	case "match", "last_match":
		return n.onMatch(p, m)
	}
	return n.onHeartbeat(p, m)
}

func (n *normalizer) onSubscriptions() {
	if n.ch.level2 != "" {
		return
	}
	for _, p := range n.prods {
		n.setOnline(p, true, "")
	}
	n.updateState()
}

// onStatus follows the upstream's product states: a product the upstream
// calls anything but online goes offline here too, with its message, and
// comes back when the upstream says online and its book is in sync.
func (n *normalizer) onStatus(m *cbMessage) {
	for _, ps := range m.Products {
		p := n.byUp[ps.ID]
		if p == nil {
			continue
		}
		p.upDown = ""
		if ps.Status != "online" {
			p.upDown = "upstream " + ps.Status
			if ps.StatusMessage != "" {
				p.upDown += ": " + ps.StatusMessage
			}
		}
		n.setOnline(p, n.ch.level2 == "" || p.synced, "")
	}
	n.updateState()
}

func (n *normalizer) onSnapshot(p *cbProduct, m *cbMessage) *decodeError {
	bids, asks, err := decodeSnapshot(m)
	if err != nil {
		return err
	}
	t, err := n.msgTime(m.Time)
	if err != nil {
		return err
	}
	p.l2SeqOK = m.HasSequence
	if p.l2SeqOK {
		p.l2Seq = m.Sequence
	}
	n.out(model.Update{Kind: model.KindSnapshot, Product: p.id, Time: t, Bids: bids, Asks: asks})
	if p.upDown != "" {
		// fanout takes a snapshot for a sign of life and marks the product
		// online; the upstream says otherwise, so say it again.
		n.out(model.Update{Kind: model.KindStatus, Product: p.id, Time: n.now, Message: p.upDown})
	}
	if !p.synced {
		p.synced = true
		if n.ch.level2 != "" {
			n.wait--
		}
	}
	n.setOnline(p, true, "")
	n.updateState()
	return nil
}

func (n *normalizer) onL2Update(p *cbProduct, m *cbMessage) *decodeError {
	changes, err := decodeChanges(m.Changes)
	if err != nil {
		return err
	}
	t, err := n.msgTime(m.Time)
	if err != nil {
		return err
	}
	if !p.synced {
		return nil // waiting for a snapshot, which will include this
	}
	if m.HasSequence {
		if p.l2SeqOK && m.Sequence != p.l2Seq+1 {
			n.gap(p, "level2", p.l2Seq+1, m.Sequence)
			return nil
		}
		p.l2Seq, p.l2SeqOK = m.Sequence, true
	}
	n.out(model.Update{Kind: model.KindChanges, Product: p.id, Time: t, Changes: changes})
	return nil
}

// checkSeq counts a sequence of channel i that goes back as a gap, and
// returns the sequence to emit (0 when there is none).
func (n *normalizer) checkSeq(p *cbProduct, i int, m *cbMessage) int64 {
	if !m.HasSequence || m.Sequence <= 0 {
		return 0
	}
	s := m.Sequence
	if last := p.seq[i]; last > 0 && s < last {
		n.gap(p, seqChannels[i], last, s)
	}
	p.seq[i] = s
	p.maxSeq = max(p.maxSeq, s)
	return s + p.seqOffset
}

func (n *normalizer) onTicker(p *cbProduct, m *cbMessage) *decodeError {
	t, err := n.msgTime(m.Time)
	if err != nil {
		return err
	}
	stats, err := decodeStats(m)
	if err != nil {
		return err
	}
	// The ticker is the trade source only without matches; otherwise it
	// brings statistics, and only its price must make sense.
	var tr model.Trade
	isTrade := !n.ch.matches && m.TradeID != 0
	if isTrade {
		if tr, err = decodeTickerTrade(m); err != nil {
			return err
		}
	} else if m.Price != "" {
		if _, err := decodePrice("price", m.Price); err != nil {
			return err
		}
	}
	seq := n.checkSeq(p, seqTicker, m)
	if isTrade {
		if p.sessionTrade == 0 {
			n.rebase(p, tr.TradeID)
		}
		p.sessionTrade = max(p.sessionTrade, tr.TradeID)
		if n.newTrade(p, tr.TradeID) {
			tr.TradeID += p.tradeOffset
			n.out(model.Update{Kind: model.KindTrade, Product: p.id, Time: t, Sequence: seq, Trade: tr, Stats: stats})
			return nil
		}
	}
	if stats != nil {
		n.out(model.Update{Kind: model.KindStats, Product: p.id, Time: t, Sequence: seq, Stats: stats})
	}
	return nil
}

func (n *normalizer) onMatch(p *cbProduct, m *cbMessage) *decodeError {
	tr, err := decodeTrade(m)
	if err != nil {
		return err
	}
	t, err := n.msgTime(m.Time)
	if err != nil {
		return err
	}
	seq := n.checkSeq(p, seqMatches, m)
	id := tr.TradeID
	switch {
	case m.Type == "last_match" || p.sessionTrade == 0:
		n.rebase(p, id)
	case id <= p.sessionTrade:
		n.gap(p, "matches trade_id", p.sessionTrade+1, id)
		return nil
	case id > p.sessionTrade+1 && !n.ignoreTradeGaps:
		n.gap(p, "matches trade_id", p.sessionTrade+1, id)
	}
	p.sessionTrade = id
	if n.newTrade(p, id) {
		tr.TradeID += p.tradeOffset
		n.out(model.Update{Kind: model.KindTrade, Product: p.id, Time: t, Sequence: seq, Trade: tr})
	}
	return nil
}

// rebase handles the first trade of a session: when its id is below the last
// trade emitted, the upstream's numbering started over (a restarted relay),
// and trades from it on are new again.
func (n *normalizer) rebase(p *cbProduct, id int64) {
	if id < p.lastTrade {
		n.log.Warn("upstream trade ids went back; following them", zap.String("product", p.id),
			zap.Int64("last", p.lastTrade), zap.Int64("now", id))
		p.lastTrade = id - 1
	}
}

// newTrade reports whether trade id was not emitted yet, and records it.
func (n *normalizer) newTrade(p *cbProduct, id int64) bool {
	if id <= p.lastTrade {
		return false
	}
	p.lastTrade = id
	p.maxTrade = max(p.maxTrade, id)
	return true
}

func (n *normalizer) onHeartbeat(p *cbProduct, m *cbMessage) *decodeError {
	t, err := n.msgTime(m.Time)
	if err != nil {
		return err
	}
	seq := n.checkSeq(p, seqHeartbeat, m)
	last := m.LastTradeID
	if last > 0 {
		last += p.tradeOffset
	}
	n.out(model.Update{Kind: model.KindHeartbeat, Product: p.id, Time: t, Sequence: seq, LastTradeID: last})
	return nil
}

// gap counts and logs a sequence gap on channel and resyncs p's book.
func (n *normalizer) gap(p *cbProduct, channel string, want, got int64) {
	n.tr.Gap()
	if held, ok := n.sampler("gap").allow(n.now); ok {
		n.log.Warn("upstream sequence gap; resyncing the book", zap.String("product", p.id),
			zap.String("channel", channel), zap.Int64("expected", want), zap.Int64("got", got),
			zap.Uint64("held_back", held))
	}
	n.requestResync(p, "sequence gap on "+channel)
}

// requestResync marks p's book out of sync and asks the owner for a fresh
// snapshot; p goes offline until it arrives. Without level2 there is no book
// to resync.
func (n *normalizer) requestResync(p *cbProduct, why string) {
	if n.ch.level2 == "" || !p.synced {
		return
	}
	n.unsync(p)
	n.tr.Resync()
	n.resync = append(n.resync, p)
	n.setOnline(p, false, "resyncing: "+why)
	n.updateState()
}

// unsync makes p wait for a snapshot.
func (n *normalizer) unsync(p *cbProduct) {
	if !p.synced || n.ch.level2 == "" {
		return
	}
	p.synced, p.since = false, n.now
	n.wait++
	n.updateState()
}

// takeResyncs returns the products whose book needs a fresh snapshot since
// the last call; the slice is valid until the next handle.
func (n *normalizer) takeResyncs() []*cbProduct {
	out := n.resync
	n.resync = n.resync[:0]
	return out
}

// oldestWait returns since when the longest-waiting book waits for its
// snapshot; ok is false when none waits.
func (n *normalizer) oldestWait() (since time.Time, ok bool) {
	if n.wait == 0 {
		return time.Time{}, false
	}
	for _, p := range n.prods {
		if !p.synced && (!ok || p.since.Before(since)) {
			since, ok = p.since, true
		}
	}
	return since, ok
}

// setOnline emits p's status when it changes; a product the upstream's
// status channel calls down stays offline with the upstream's message.
func (n *normalizer) setOnline(p *cbProduct, online bool, message string) {
	if online && p.upDown != "" {
		online, message = false, p.upDown
	}
	if p.online == online {
		return
	}
	p.online = online
	n.out(model.Update{Kind: model.KindStatus, Product: p.id, Time: n.now, Online: online, Message: message})
}

// updateState sets the feed's state from the books waiting for a snapshot.
func (n *normalizer) updateState() {
	switch {
	case n.wait == 0 && (n.ch.level2 != "" || n.anyOnline()):
		n.live = true
		n.tr.SetState(feed.StateLive)
	case n.wait == 0:
		n.tr.SetState(feed.StateConnecting)
	case n.live:
		n.tr.SetState(feed.StateResyncing)
	default:
		n.tr.SetState(feed.StateConnecting)
	}
}

func (n *normalizer) anyOnline() bool {
	return slices.ContainsFunc(n.prods, func(p *cbProduct) bool { return p.online })
}

// msgTime reads the time a message carries, moved by the replay's shift; the
// receive time when it carries none.
func (n *normalizer) msgTime(s string) (time.Time, *decodeError) {
	if s == "" {
		return n.now, nil
	}
	t, err := decodeTime(s, n.now)
	if err == nil && n.shift != 0 {
		t = t.Add(n.shift)
	}
	return t, err
}

func (n *normalizer) out(u model.Update) { n.emit(u) }

// drop counts a rejected message and logs it with a sample, at most once per
// reason and logInterval.
func (n *normalizer) drop(err *decodeError, raw []byte) {
	n.tr.Malformed(err.Reason)
	if held, ok := n.sampler(err.Reason).allow(n.now); ok {
		n.log.Warn("upstream message dropped", zap.String("reason", err.Reason), zap.String("detail", err.Detail),
			zap.String("sample", sample(raw)), zap.Uint64("held_back", held))
	}
}

func (n *normalizer) sampler(key string) *logSampler {
	s := n.logs[key]
	if s == nil {
		s = &logSampler{}
		n.logs[key] = s
	}
	return s
}

// sample returns the start of a raw message for a log line.
func sample(raw []byte) string {
	const max = 256
	if len(raw) > max {
		return string(raw[:max]) + "... (" + strconv.Itoa(len(raw)) + " bytes)"
	}
	return string(raw)
}

// logInterval spaces the log lines of one kind of upstream problem.
const logInterval = 10 * time.Second

// logSampler lets one log line through per logInterval and counts the rest.
type logSampler struct {
	last time.Time
	held uint64
}

func (s *logSampler) allow(now time.Time) (held uint64, ok bool) {
	if !s.last.IsZero() && now.Sub(s.last) < logInterval && now.After(s.last) {
		s.held++
		return 0, false
	}
	held, s.held, s.last = s.held, 0, now
	return held, true
}
