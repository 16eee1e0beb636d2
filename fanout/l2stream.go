package fanout

import (
	"time"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// l2Stream is one level2 stream of a product, live (level2) or batched
// (level2_batch): the book as the stream's subscribers hold it, the stream's
// sequence, the subscribers that opted into checksums, and cached snapshot
// frames. The topic's lock guards it.
type l2Stream struct {
	ch   channel
	book *book.Book
	seq  uint64
	sums subSet    // subscribers of ch that asked for checksums
	snap [2][]byte // cached snapshot frames, without and with checksum
	hist history   // recent update frames, for resume
}

// newL2Stream starts a stream at sequence start. The server starts every
// stream at its start time in microseconds, so the sequences of a restarted
// server lie beyond any its predecessor sent: a client resuming with an old
// sequence gets a snapshot, never another server's updates.
func newL2Stream(ch channel, product string, start uint64, history int) l2Stream {
	return l2Stream{ch: ch, book: book.New(product), seq: start, hist: newHistory(history)}
}

// reset replaces the stream's book after a snapshot event. Updates before it
// cannot be resumed across it.
func (s *l2Stream) reset(b *book.Book) {
	s.book = b
	s.seq++
	s.snap = [2][]byte{}
	s.hist.clear()
}

// advanced records that changes were applied to the stream's book.
func (s *l2Stream) advanced() {
	s.seq++
	s.snap = [2][]byte{}
}

// snapshot returns the snapshot frame, with the checksum when sum is set.
func (s *l2Stream) snapshot(p *model.Product, sum bool) []byte {
	i := 0
	if sum {
		i = 1
	}
	if s.snap[i] == nil {
		bids, asks := s.book.Top(0, nil, nil)
		s.snap[i] = encodeSnapshot(p, s.seq, bids, asks, s.sum(p, sum))
	}
	return s.snap[i]
}

func (s *l2Stream) sum(p *model.Product, on bool) bookSum {
	if !on {
		return bookSum{}
	}
	return bookSum{on: true, sum: checksum(p, s.book)}
}

// sendSnapshot sends the current snapshot to every subscriber of the stream.
func (s *l2Stream) sendSnapshot(t *topic) {
	if t.subs[s.ch].Len() > 0 {
		t.subs[s.ch].send(t.conflated(s.ch, s.snapshot(t.p, false)), t.round)
	}
	if s.sums.Len() > 0 {
		s.sums.send(t.conflated(s.ch, s.snapshot(t.p, true)), t.round)
	}
}

// sendUpdate encodes the update once per variant that has subscribers and
// sends it. The changes must already be applied to the stream's book.
func (s *l2Stream) sendUpdate(t *topic, when time.Time, changes []model.Change) {
	if t.subs[s.ch].Len() > 0 || s.hist.on() {
		f := encodeL2Update(t.p, s.seq, when, changes, bookSum{})
		s.hist.add(s.seq, f)
		if t.subs[s.ch].Len() > 0 {
			t.subs[s.ch].send(t.conflated(s.ch, f), t.round)
		}
	}
	if s.sums.Len() > 0 {
		s.sums.send(t.conflated(s.ch, encodeL2Update(t.p, s.seq, when, changes, s.sum(t.p, true))), t.round)
	}
}
