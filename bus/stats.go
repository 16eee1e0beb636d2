package bus

import (
	"sort"
	"time"
)

// FollowerStats is what a Follower knows, for /cluster and the metrics.
type FollowerStats struct {
	Connected bool `json:"nats_connected"`
	// Events counts the events applied or buffered; Foreign those of
	// ingests or epochs not followed; Malformed the messages not decoded.
	Events    uint64 `json:"events"`
	Foreign   uint64 `json:"foreign_events"`
	Malformed uint64 `json:"malformed"`
	// Gaps counts Seq gaps; Stale the streams recovered because a Beat
	// announced events never received; SlowConsumer the times NATS dropped
	// events because the edge fell behind.
	Gaps         uint64 `json:"gaps"`
	Stale        uint64 `json:"stale"`
	SlowConsumer uint64 `json:"slow_consumer"`
	// Recoveries counts snapshot recoveries of a product, whatever the cause;
	// Failovers those to another ingest; Epochs the ingest restarts seen;
	// Timeouts the snapshot requests repeated.
	Recoveries uint64 `json:"recoveries"`
	Failovers  uint64 `json:"failovers"`
	Epochs     uint64 `json:"epochs"`
	Timeouts   uint64 `json:"snapshot_timeouts"`
	// LagSeconds is the age of the last event received (now minus its
	// upstream time).
	LagSeconds float64        `json:"lag_seconds"`
	Ingests    []IngestStats  `json:"ingests"`
	Products   []ProductStats `json:"products"`
}

// IngestStats is an ingest as its Beats describe it.
type IngestStats struct {
	ID      string  `json:"id"`
	Epoch   uint64  `json:"epoch"`
	Alive   bool    `json:"alive"`
	AgeSecs float64 `json:"last_beat_age_seconds"`
	// LagSecs is how late the last Beat arrived: its receipt time minus the
	// time the ingest stamped on it (clocks of both hosts must agree).
	LagSecs  float64 `json:"beat_lag_seconds"`
	Products int     `json:"products"`
}

// ProductStats is one followed product.
type ProductStats struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Ingest string `json:"ingest"`
	Epoch  uint64 `json:"epoch"`
	Seq    uint64 `json:"seq"`
	// Reason is why the product last recovered.
	Reason string `json:"last_recovery_reason,omitempty"`
}

// Stats returns the Follower's state and counters. Safe at any time.
func (f *Follower) Stats() FollowerStats {
	s := FollowerStats{
		Connected: f.nc.IsConnected(),
		Events:    f.n.events.Load(), Foreign: f.n.foreign.Load(), Malformed: f.n.malformed.Load(),
		Gaps: f.n.gaps.Load(), Stale: f.n.stale.Load(), SlowConsumer: f.n.slow.Load(),
		Recoveries: f.n.recoveries.Load(), Failovers: f.n.failovers.Load(), Epochs: f.n.epochs.Load(),
		Timeouts:   f.n.timeouts.Load(),
		LagSeconds: time.Duration(f.n.lagNanos.Load()).Seconds(),
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.ingests {
		s.Ingests = append(s.Ingests, IngestStats{ID: in.id, Epoch: in.epoch, Products: len(in.products),
			Alive: now.Sub(in.seen) < f.cfg.IngestTimeout, AgeSecs: now.Sub(in.seen).Seconds(), LagSecs: in.lag.Seconds()})
	}
	sort.Slice(s.Ingests, func(i, j int) bool { return s.Ingests[i].ID < s.Ingests[j].ID })
	for _, p := range f.order {
		s.Products = append(s.Products, ProductStats{ID: p.id, State: p.state.String(), Ingest: p.source,
			Epoch: p.epoch, Seq: p.seq, Reason: p.reason})
	}
	return s
}
