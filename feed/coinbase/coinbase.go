package coinbase

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/record"
	"github.com/tickerfan/tickerfan/internal/backoff"
	"github.com/tickerfan/tickerfan/model"
	"go.uber.org/zap"
)

// Feed is a Source fed by a WebSocket upstream that speaks the Coinbase
// Exchange feed protocol: the exchange itself, or another tickerfan (a tiered
// relay). It subscribes its products to the configured channels, builds each
// book from snapshot + l2update, and keeps it exact:
//
//   - a lost connection is re-dialled with capped, jittered exponential
//     backoff, and every book is rebuilt from the fresh snapshots the new
//     subscription brings;
//   - an upstream silent for StaleTimeout (no message, not even a heartbeat)
//     counts as lost;
//   - a sequence gap or a malformed level2 message resyncs that product's
//     book: level2 is unsubscribed and subscribed again for it, which brings a
//     fresh snapshot (a connection whose snapshot does not come within
//     ResyncTimeout is dropped and re-dialled);
//   - a product goes offline (KindStatus) while its book is not in sync and
//     back online with its new snapshot, so status subscribers see outages
//     and level2 subscribers get the fresh snapshot.
//
// What it emits, and how gaps are detected, is described on normalizer.
// Malformed or unexpected messages are counted by reason (Status), logged
// with a sample, and dropped: they never reach a book.
//
// Run owns the only goroutine that reads and writes the connection.
type Feed struct {
	name   string
	ids    []string // catalog ids
	upIDs  []string // the upstream's ids, same order
	cfg    Config
	log    *zap.Logger
	tr     *feed.Tracker
	norm   *normalizer
	dialer ws.Dialer
	rec    *record.Writer
}

var _ feed.Source = (*Feed)(nil)

// New returns a coinbase feed named name for products, configured by
// cfg (zero fields take their defaults). A nil log discards logs. It fails on
// an invalid cfg (yamlconf field errors), no products, or two products with
// the same (upstream) id.
func New(name string, cfg Config, products []model.Product, log *zap.Logger) (*Feed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(products) == 0 {
		return nil, feed.ErrNoProducts
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withDefaults()
	c := &Feed{name: name, cfg: cfg, log: log}
	seen := map[string]bool{}
	for _, p := range products {
		up := cfg.upstreamID(p.ID)
		if seen[p.ID] || seen["\x00"+up] {
			return nil, fmt.Errorf("%w: %q", feed.ErrDuplicateProduct, p.ID)
		}
		seen[p.ID], seen["\x00"+up] = true, true
		c.ids = append(c.ids, p.ID)
		c.upIDs = append(c.upIDs, up)
	}
	c.tr = feed.NewTracker(name, Kind, cfg.URL, c.ids)
	c.norm = newNormalizer(c.ids, cfg.upstreamID, c.tr, log)
	c.norm.ignoreTradeGaps = cfg.IgnoreTradeGaps
	c.dialer = ws.Dialer{
		Timeout: cfg.HandshakeTimeout,
		Header:  ws.HandshakeHeaderHTTP(http.Header{"User-Agent": {"tickerfan"}}),
	}
	return c, nil
}

// Name returns the configured feed name.
func (c *Feed) Name() string { return c.name }

// Products returns the catalog ids of the feed's products; the slice is the caller's.
func (c *Feed) Products() []string { return append([]string(nil), c.ids...) }

// Status reports the feed's state and counters. Safe for concurrent use.
func (c *Feed) Status() feed.Status { return c.tr.Status() }

// Run connects, subscribes and emits updates until ctx is done, reconnecting
// as often as needed; it returns nil then. It fails at once only when the
// recording file cannot be opened.
func (c *Feed) Run(ctx context.Context, emit func(model.Update)) error {
	if c.cfg.Record != "" {
		rec, err := record.Create(c.cfg.Record)
		if err != nil {
			return fmt.Errorf("feed %s: record: %w", c.name, err)
		}
		c.rec = rec
		defer func() { c.closeRecorder() }()
	}
	c.norm.emit = emit
	bo := backoff.New(c.cfg.BackoffMin, c.cfg.BackoffMax, rand.Uint64())
	defer c.tr.SetState(feed.StateStopped)
	for ctx.Err() == nil {
		live, err := c.session(ctx)
		now := time.Now()
		if ctx.Err() != nil {
			c.norm.disconnect("feed stopped", now)
			break
		}
		c.norm.disconnect(offlineMessage(err), now)
		c.record(c.rec.Disconnected(now, err.Error()))
		c.tr.Reconnect(err)
		c.tr.SetState(feed.StateConnecting)
		if errors.Is(err, ErrStale) {
			c.tr.SetState(feed.StateStale)
		}
		if live {
			bo.Reset()
		}
		delay := bo.Next()
		c.log.Warn("upstream connection lost; reconnecting", zap.Error(err), zap.Duration("delay", delay))
		if !sleep(ctx, delay) {
			break
		}
	}
	return nil
}

// offlineMessage is the status message of products whose feed lost its
// upstream.
func offlineMessage(err error) string {
	if errors.Is(err, ErrStale) {
		return "upstream stale"
	}
	return "upstream disconnected"
}

// sleep waits d, or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// session runs one connection until it fails; live reports whether every
// book was in sync at some point.
func (c *Feed) session(ctx context.Context) (live bool, err error) {
	if c.tr.State() != feed.StateStale { // stale stays visible until connected again
		c.tr.SetState(feed.StateConnecting)
	}
	conn, br, _, err := c.dialer.Dial(ctx, c.cfg.URL)
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", c.cfg.URL, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	src := bufio.NewReaderSize(conn, 64<<10)
	if br != nil {
		src = br
		defer ws.PutReader(br)
	}
	now := time.Now()
	if err := c.send(conn, c.subscribeMessage("subscribe", c.upIDs, c.cfg.Channels, now)); err != nil {
		return false, fmt.Errorf("subscribe: %w", err)
	}
	c.record(c.rec.Connected(now, c.cfg.URL, c.upIDs, c.cfg.Channels))
	c.norm.reset(c.cfg.Channels, now)
	c.log.Info("upstream connected", zap.String("url", c.cfg.URL), zap.Strings("channels", c.cfg.Channels))

	ctrl := wsutil.ControlFrameHandler(conn, ws.StateClientSide)
	rd := &wsutil.Reader{Source: src, State: ws.StateClientSide, MaxMessageSize: c.cfg.MaxMessageBytes, OnIntermediate: ctrl}
	var buf bytes.Buffer
	for {
		if err := conn.SetReadDeadline(c.deadline(now)); err != nil {
			return live, err
		}
		msg, err := readMessage(rd, ctrl, &buf)
		now = time.Now()
		if err != nil {
			return live, c.readError(err, now)
		}
		c.tr.Message(len(msg), now)
		c.record(c.rec.Message(now, msg))
		c.norm.handle(msg, now)
		live = live || c.norm.wait == 0
		if err := c.resync(conn, now); err != nil {
			return live, err
		}
		if since, ok := c.norm.oldestWait(); ok && now.Sub(since) >= c.cfg.ResyncTimeout {
			return live, ErrResyncTimeout
		}
	}
}

// deadline is when the next read gives up: the stale timeout after the last
// message, or sooner when a book has waited for its snapshot that long.
func (c *Feed) deadline(last time.Time) time.Time {
	d := last.Add(c.cfg.StaleTimeout)
	if since, ok := c.norm.oldestWait(); ok {
		if r := since.Add(c.cfg.ResyncTimeout); r.Before(d) {
			d = r
		}
	}
	return d
}

// readError names why reading failed.
func (c *Feed) readError(err error, now time.Time) error {
	var ne net.Error
	var closed wsutil.ClosedError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		if since, ok := c.norm.oldestWait(); ok && now.Sub(since) >= c.cfg.ResyncTimeout {
			return ErrResyncTimeout
		}
		return fmt.Errorf("%w: no message for %v", ErrStale, c.cfg.StaleTimeout)
	case errors.As(err, &closed):
		return fmt.Errorf("%w: %d %s", ErrUpstreamClosed, closed.Code, closed.Reason)
	case errors.Is(err, wsutil.ErrMessageTooLarge), errors.Is(err, wsutil.ErrFrameTooLarge):
		c.tr.Malformed(feed.ReasonTooBig)
		return fmt.Errorf("%w (max_message_bytes %d)", err, c.cfg.MaxMessageBytes)
	}
	return err
}

// readMessage reads the next data message into buf and returns its bytes,
// valid until the next call. Control frames are answered on the way (a ping
// gets its pong, a close frame ends the connection).
func readMessage(rd *wsutil.Reader, ctrl wsutil.FrameHandlerFunc, buf *bytes.Buffer) ([]byte, error) {
	for {
		hdr, err := rd.NextFrame()
		if err != nil {
			return nil, err
		}
		if hdr.OpCode.IsControl() {
			if err := ctrl(hdr, rd); err != nil {
				return nil, err
			}
			continue
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
}

// resync asks the upstream for a fresh snapshot of every book the last
// message put out of sync: level2 is unsubscribed and subscribed again for
// those products. Updates that were already on the way are dropped until the
// snapshot arrives.
func (c *Feed) resync(conn net.Conn, now time.Time) error {
	ps := c.norm.takeResyncs()
	if len(ps) == 0 {
		return nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.upstream
	}
	level2 := []string{c.norm.ch.level2}
	c.log.Info("resyncing books", zap.Strings("products", ids))
	if err := c.send(conn, c.subscribeMessage("unsubscribe", ids, level2, now)); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	if err := c.send(conn, c.subscribeMessage("subscribe", ids, level2, now)); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	return nil
}

// subscribeMsg is a subscribe or unsubscribe request.
type subscribeMsg struct {
	Type       string   `json:"type"`
	ProductIDs []string `json:"product_ids"`
	Channels   []string `json:"channels"`
	authFields
}

// subscribeMessage builds a request, signed when credentials are configured.
func (c *Feed) subscribeMessage(typ string, ids, channels []string, now time.Time) []byte {
	msg := subscribeMsg{Type: typ, ProductIDs: ids, Channels: channels}
	if typ == "subscribe" {
		// Validate checked the secret, so signing cannot fail.
		msg.authFields, _ = c.cfg.Credentials.sign(now)
	}
	b, _ := json.Marshal(msg)
	return b
}

// send writes one text message, bounded by the handshake timeout.
func (c *Feed) send(conn net.Conn, msg []byte) error {
	conn.SetWriteDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	defer conn.SetWriteDeadline(time.Time{})
	return wsutil.WriteClientText(conn, msg)
}

// record handles a recorder error: logged once, then recording stops and the
// feed goes on.
func (c *Feed) record(err error) {
	if err != nil {
		c.log.Error("recording failed; recording stops, the feed goes on", zap.Error(err))
		c.closeRecorder()
	}
}

func (c *Feed) closeRecorder() {
	if c.rec != nil {
		if err := c.rec.Close(); err != nil {
			c.log.Error("closing the recording", zap.Error(err))
		}
		c.rec = nil
	}
}
