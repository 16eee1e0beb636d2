package bus

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Beat is an ingest's announcement, published every
// Config.HeartbeatInterval on Subjects.Beat: who it is, its epoch, and the
// Seq of the last event it published per product. Edges choose ingests by
// it and detect a stream whose tail they lost by it.
type Beat struct {
	// ID names the ingest; edges prefer the lowest live ID (see Follower).
	ID string
	// Epoch changes on every start of the ingest (its start time in
	// nanoseconds since 1970); every event it publishes carries it.
	Epoch uint64
	Time  time.Time
	// Products lists the ingest's products that have a book (a snapshot was
	// published) with the Seq of the last event published for each before
	// the Beat, and whether the product is online at the ingest.
	Products []ProductSeq
}

// ProductSeq is a product, a Seq of its stream and its status then.
type ProductSeq struct {
	Product string
	Seq     uint64
	Online  bool
}

// The Beat encoding, version 1:
//
//	beat = version 16 uvarint(epoch) string(id) varint(time_ns)
//	       uvarint(n) n*(string(product) uvarint(seq) byte(online 0|1))

// AppendBeat appends b to dst.
func AppendBeat(dst []byte, b *Beat) []byte {
	dst = append(dst, Version, KindBeat)
	dst = binary.AppendUvarint(dst, b.Epoch)
	dst = appendString(dst, b.ID)
	dst = appendTime(dst, b.Time)
	dst = binary.AppendUvarint(dst, uint64(len(b.Products)))
	for _, p := range b.Products {
		dst = appendString(dst, p.Product)
		dst = binary.AppendUvarint(dst, p.Seq)
		dst = append(dst, boolByte(p.Online))
	}
	return dst
}

// DecodeBeat decodes one Beat.
func DecodeBeat(data []byte) (Beat, error) {
	r := reader{b: data}
	if err := r.header(); err != nil {
		return Beat{}, err
	}
	if k := r.byte(); r.err == nil && k != KindBeat {
		return Beat{}, fmt.Errorf("%w: %d", ErrKind, k)
	}
	var b Beat
	b.Epoch = r.uvarint()
	b.ID = r.string()
	b.Time = r.time()
	if n := r.count(3); n > 0 {
		b.Products = make([]ProductSeq, n)
		for i := range b.Products {
			b.Products[i] = ProductSeq{Product: r.string(), Seq: r.uvarint(), Online: r.bool()}
		}
	}
	if err := r.end(); err != nil {
		return Beat{}, err
	}
	return b, nil
}
