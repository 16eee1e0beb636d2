package coinbase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/record"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// ReplayConfig configures a feed of kind replay: a recording (Recorder, the
// record option of a coinbase feed, `tickerfan record`) played back through
// the same normalizer as the live feed. Path is required.
type ReplayConfig struct {
	// Path is the recording, JSON lines, plain or gzip. Relative to the
	// working directory. Required.
	Path string `yaml:"path"`
	// Speed is the pace: 1 plays at the recorded pace, N at N times it, 0
	// as fast as possible. Default 0.
	Speed float64 `yaml:"speed"`
	// Loop plays the file again from the start when it ends, for ever;
	// sequences and trade ids keep increasing across passes. Default false:
	// the feed stops at the end and its products go offline.
	Loop bool `yaml:"loop"`
	// KeepTimes emits the message times as recorded. Default false: every
	// time is moved by the same amount as its message's receive time, so the
	// replay looks live (a message that arrived 3 ms after its time is
	// emitted with a time 3 ms before now).
	KeepTimes bool `yaml:"keep_times"`
}

// maxReplaySpeed bounds ReplayConfig.Speed; above it, use 0.
const maxReplaySpeed = 1e6

// Validate reports every bad field at once, as yamlconf field errors.
func (c ReplayConfig) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, yamlconf.Errorf("path", "is required: the recording to replay"))
	}
	if math.IsNaN(c.Speed) || c.Speed < 0 || c.Speed > maxReplaySpeed {
		errs = append(errs, yamlconf.Errorf("speed", "must be between 0 (as fast as possible) and %g, got %g", float64(maxReplaySpeed), c.Speed))
	}
	return errors.Join(errs...)
}

// replayChannels are assumed for a recording that does not say what it
// subscribed (no connected event before its first message).
var replayChannels = []string{ChannelLevel2, ChannelTicker, ChannelMatches, ChannelHeartbeat}

// Replay is a Source that plays a recording back through the normalizer the
// coinbase feed uses, so the books, trades and gaps come out as they did live.
// Products are matched by the ids the recording holds (the upstream's);
// messages of other products are skipped. A gap cannot
// be resynced from a file: the book waits for the next snapshot the recording
// holds (the live feed recorded the one it asked for).
//
// Run owns the only goroutine; it starts none.
type Replay struct {
	name string
	ids  []string
	cfg  ReplayConfig
	log  *zap.Logger
	tr   *feed.Tracker
	norm *normalizer
}

var _ feed.Source = (*Replay)(nil)

// NewReplay returns a replay feed named name for products. It fails on an
// invalid cfg, no products, or a recording that cannot be opened.
func NewReplay(name string, cfg ReplayConfig, products []model.Product, log *zap.Logger) (*Replay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(products) == 0 {
		return nil, feed.ErrNoProducts
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return nil, err
	}
	f.Close()
	if log == nil {
		log = zap.NewNop()
	}
	r := &Replay{name: name, cfg: cfg, log: log}
	for _, p := range products {
		r.ids = append(r.ids, p.ID)
	}
	r.tr = feed.NewTracker(name, ReplayKind, cfg.Path, r.ids)
	r.norm = newNormalizer(r.ids, func(id string) string { return id }, r.tr, log)
	r.norm.ignoreUnknown = true
	return r, nil
}

// Name returns the configured feed name.
func (r *Replay) Name() string { return r.name }

// Products returns the product ids; the slice is the caller's.
func (r *Replay) Products() []string { return append([]string(nil), r.ids...) }

// Status reports the replay's state and counters. Safe for concurrent use.
func (r *Replay) Status() feed.Status { return r.tr.Status() }

// Run plays the recording, once or looping, until it ends or ctx is done,
// and returns nil then; it fails when the file cannot be read or holds no
// record.
func (r *Replay) Run(ctx context.Context, emit func(model.Update)) error {
	r.norm.emit = emit
	defer r.tr.SetState(feed.StateStopped)
	for pass := 0; ; pass++ {
		n, err := r.play(ctx)
		if err != nil {
			return fmt.Errorf("feed %s: %w", r.name, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n == 0 {
			return fmt.Errorf("feed %s: %s holds no record", r.name, r.cfg.Path)
		}
		if !r.cfg.Loop {
			r.norm.disconnect("replay finished", r.norm.now)
			r.log.Info("replay finished", zap.String("path", r.cfg.Path), zap.Int("records", n))
			return nil
		}
		r.norm.nextPass()
	}
}

// play makes one pass over the file and returns the records it read.
func (r *Replay) play(ctx context.Context) (int, error) {
	f, err := os.Open(r.cfg.Path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rr, err := record.NewReader(f)
	if err != nil {
		return 0, err
	}
	r.norm.reset(replayChannels, time.Now())
	var first time.Time
	start := time.Now()
	n := 0
	for ; ; n++ {
		if n%256 == 0 && ctx.Err() != nil {
			return n, nil
		}
		rec, err := rr.Next()
		switch {
		case errors.Is(err, record.ErrBadRecord):
			r.tr.Message(0, time.Now())
			r.tr.Malformed(feed.ReasonBadRecord)
			r.log.Warn("replay line skipped", zap.Error(err))
			continue
		case errors.Is(err, io.EOF):
			return n, nil
		case err != nil:
			return n, err
		}
		if first.IsZero() {
			first = rec.Recv
		}
		if !r.wait(ctx, start, rec.Recv.Sub(first)) {
			return n, nil
		}
		r.apply(&rec)
	}
}

// wait sleeps until offset into the recording is due at the configured
// speed; false when ctx ended first.
func (r *Replay) wait(ctx context.Context, start time.Time, offset time.Duration) bool {
	if r.cfg.Speed == 0 || offset <= 0 {
		return true
	}
	due := start.Add(time.Duration(float64(offset) / r.cfg.Speed))
	if d := time.Until(due); d > 0 {
		return sleep(ctx, d)
	}
	return true
}

// apply hands one record to the normalizer, moving its times to now unless
// KeepTimes.
func (r *Replay) apply(rec *record.Record) {
	now := time.Now()
	recv := rec.Recv
	r.norm.shift = 0
	if !r.cfg.KeepTimes {
		r.norm.shift = now.Sub(rec.Recv)
		recv = now
	}
	switch rec.Event {
	case record.EventConnected:
		channels := rec.Channels
		if len(channels) == 0 {
			channels = replayChannels
		}
		r.norm.reset(channels, recv)
	case record.EventDisconnected:
		r.norm.disconnect("upstream disconnected (recorded)", recv)
	default:
		r.tr.Message(len(rec.Msg), now)
		r.norm.handle(rec.Msg, recv)
	}
}
