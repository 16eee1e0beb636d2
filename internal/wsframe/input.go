package wsframe

import "sync"

// Chunk is the pooled input buffer size: a subscribe message fits many times
// over. LargeChunk is for readers that drain bursts of server messages, where
// one read should take many of them.
const (
	Chunk      = 4 << 10
	LargeChunk = 64 << 10
)

var (
	chunks      = sync.Pool{New: func() any { b := make([]byte, 0, Chunk); return &b }}
	largeChunks = sync.Pool{New: func() any { b := make([]byte, 0, LargeChunk); return &b }}
)

// Input is the unparsed bytes of one connection. It holds no memory while
// empty: a pooled chunk is taken when bytes are read and given back once they
// are all parsed, so an idle connection costs no buffer. A frame larger than a
// chunk gets a buffer of its own, sized as its header announces (bounded by
// the caller's limit in Next).
type Input struct {
	// Large makes the input take LargeChunk buffers instead of Chunk ones.
	Large bool
	// NoReserve makes the input grow only as bytes arrive (doubling) instead
	// of reserving room for the whole frame a header announces: a server
	// must not let a header alone, from a client that then trickles its
	// payload, pin a max-size buffer.
	NoReserve bool
	buf       []byte
	pooled    bool
}

func (in *Input) pool() *sync.Pool {
	if in.Large {
		return &largeChunks
	}
	return &chunks
}

// Free makes room for at least n more bytes and returns the free space to
// read into; Commit then records how many bytes were read.
func (in *Input) Free(n int) []byte {
	if cap(in.buf)-len(in.buf) < n {
		in.grow(max(n, len(in.buf))) // doubling: a large frame read in pieces is copied O(1) times per byte
	}
	return in.buf[len(in.buf):cap(in.buf)]
}

// Commit appends n bytes just read into Free's space.
func (in *Input) Commit(n int) { in.buf = in.buf[:len(in.buf)+n] }

// Append copies p into the input (bytes that arrived before the connection
// was handed over, such as those read with the handshake).
func (in *Input) Append(p []byte) {
	in.grow(len(p))
	in.buf = append(in.buf, p...)
}

// Bytes returns the unparsed bytes. They stay valid until the next call that
// changes the input.
func (in *Input) Bytes() []byte { return in.buf }

// Keep replaces the input with rest, the unparsed tail of Bytes, moving it to
// the front; need, when larger than what fits, is the total size of the frame
// rest begins (from Next), so room is made for all of it. An empty input gives
// its buffer back.
func (in *Input) Keep(rest []byte, need int) {
	n := copy(in.buf, rest)
	in.buf = in.buf[:n]
	if n == 0 {
		in.Release()
		return
	}
	if need > cap(in.buf) && !in.NoReserve {
		in.grow(need - n)
	}
}

// Release gives the buffer back, dropping any unparsed bytes.
func (in *Input) Release() {
	if in.buf != nil && in.pooled {
		b := in.buf[:0]
		in.pool().Put(&b)
	}
	in.buf, in.pooled = nil, false
}

// grow makes room for at least n more bytes.
func (in *Input) grow(n int) {
	if in.buf == nil {
		in.buf = (*in.pool().Get().(*[]byte))[:0]
		in.pooled = true
	}
	if cap(in.buf)-len(in.buf) >= n {
		return
	}
	bigger := make([]byte, len(in.buf), len(in.buf)+n)
	copy(bigger, in.buf)
	in.Release()
	in.buf = bigger
}

// Parse calls fn for every complete frame of the input, in order, and keeps
// the incomplete rest (making room for all of a frame whose header is in).
// It stops at the first error, from framing (ErrTooBig, ErrProtocol) or from
// fn, and returns it; the input is then left as it was for the caller to
// Release. Payloads alias the input: fn must copy what it keeps.
func (in *Input) Parse(maxLen int, masked bool, fn func(Frame) error) error {
	buf := in.buf
	need := 0
	for len(buf) > 0 {
		f, n, nd, err := Next(buf, maxLen, masked)
		if err != nil {
			return err
		}
		if n == 0 {
			need = nd
			break
		}
		buf = buf[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	in.Keep(buf, need)
	return nil
}
