package fanout

// history keeps the last frames of a level2 stream with their sequences, for
// the resume extension: a client that reconnects naming the last sequence it
// saw gets the updates it missed, the same bytes every subscriber got, when
// they are all still here. The topic's lock guards it.
type history struct {
	frames [][]byte
	first  uint64 // sequence of the oldest frame kept
	n      int    // frames kept
	head   int    // index of the oldest
}

func newHistory(size int) history {
	if size <= 0 {
		return history{}
	}
	return history{frames: make([][]byte, size)}
}

func (h *history) on() bool { return len(h.frames) > 0 }

// add records the frame of update seq; seq must follow the newest kept.
func (h *history) add(seq uint64, frame []byte) {
	if !h.on() {
		return
	}
	if h.n > 0 && seq != h.first+uint64(h.n) {
		h.clear()
	}
	if h.n == 0 {
		h.first = seq
	}
	if h.n == len(h.frames) {
		h.frames[h.head] = frame
		h.head = (h.head + 1) % len(h.frames)
		h.first++
		return
	}
	h.frames[(h.head+h.n)%len(h.frames)] = frame
	h.n++
}

// since returns the frames after sequence seen, up to current, the stream's
// sequence now; ok is false when they are not all kept (or seen is not a
// sequence of this stream), and the client needs a snapshot instead.
func (h *history) since(seen, current uint64) (frames [][]byte, ok bool) {
	switch {
	case seen == current:
		return nil, true
	case seen > current || h.n == 0 || seen+1 < h.first || h.first+uint64(h.n)-1 != current:
		return nil, false
	}
	for seq := seen + 1; seq <= current; seq++ {
		frames = append(frames, h.frames[(h.head+int(seq-h.first))%len(h.frames)])
	}
	return frames, true
}

func (h *history) clear() {
	clear(h.frames)
	h.n, h.head, h.first = 0, 0, 0
}
