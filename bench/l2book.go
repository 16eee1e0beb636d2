package bench

// l2Book is one subscriber's level-2 book of one product, kept from the
// messages it receives as a client would keep it: a snapshot replaces it,
// each l2update sets the absolute size of a level, size 0 removes it. Prices
// and sizes are canonical decimal strings (appendCanonical). It exists only
// when the run can check it (Swarm.trackBooks); its reader owns it.
type l2Book struct {
	sides [2]l2Side // bids, asks
	// depth is the number of levels per side of the last snapshot: what the
	// server sends of a book, which may be capped below the upstream's.
	depth   [2]int
	snapped bool   // a snapshot arrived
	broken  string // why the book cannot be trusted ("" when it can)
}

// apply applies a snapshot (snapshot true) or an l2update payload. A message
// it cannot apply breaks the book until the next snapshot. Hot path for
// level2 runs: walks the bytes like Scan, allocating only strings the
// interner has not seen and room for new levels.
func (b *l2Book) apply(snapshot bool, payload []byte, in *interner) {
	if snapshot {
		b.sides[0], b.sides[1] = b.sides[0][:0], b.sides[1][:0]
		b.snapped, b.broken, b.depth = true, "", [2]int{}
	} else if !b.snapped {
		b.broken = errL2BeforeSnap.Error()
		return
	}
	if err := b.walk(snapshot, payload, in); err != nil && b.broken == "" {
		b.broken = err.Error()
	}
}

// walk finds the top-level "bids" and "asks" (snapshot) or "changes"
// (l2update) and applies their levels.
func (b *l2Book) walk(snapshot bool, msg []byte, in *interner) error {
	i := skipSpace(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return errL2Malformed
	}
	for i = skipSpace(msg, i+1); i < len(msg) && msg[i] != '}'; {
		end, ok := stringEnd(msg, i)
		if msg[i] != '"' || !ok {
			return errL2Malformed
		}
		key := msg[i+1 : end]
		i = skipSpace(msg, end+1)
		if i >= len(msg) || msg[i] != ':' {
			return errL2Malformed
		}
		i = skipSpace(msg, i+1)
		var err error
		switch {
		case snapshot && string(key) == "bids":
			i, err = b.levels(msg, i, 0, in)
		case snapshot && string(key) == "asks":
			i, err = b.levels(msg, i, 1, in)
		case !snapshot && string(key) == "changes":
			i, err = b.levels(msg, i, -1, in)
		default:
			i, err = skipValue(msg, i)
		}
		if err != nil {
			return err
		}
		if i = skipSpace(msg, i); i < len(msg) && msg[i] == ',' {
			i = skipSpace(msg, i+1)
		}
	}
	if i >= len(msg) {
		return errL2Malformed
	}
	return nil
}

// levels applies the array of levels at msg[i]: [price, size] pairs of side
// (0 bids, 1 asks) for a snapshot, [side, price, size] changes when side is
// -1. It returns the index past the array.
func (b *l2Book) levels(msg []byte, i, side int, in *interner) (int, error) {
	if i >= len(msg) || msg[i] != '[' {
		return 0, errL2Malformed
	}
	var strs [3][]byte
	want := 2
	if side < 0 {
		want = 3
	}
	for i = skipSpace(msg, i+1); i < len(msg) && msg[i] != ']'; {
		var n int
		var err error
		if i, n, err = stringArray(msg, i, strs[:]); err != nil {
			return 0, err
		}
		if n != want {
			return 0, errL2LevelsFormat
		}
		s, lv := side, strs[:2]
		if side < 0 {
			if s = sideOf(strs[0]); s < 0 {
				return 0, errL2Side
			}
			lv = strs[1:3]
		}
		if err := b.set(s, lv[0], lv[1], in); err != nil {
			return 0, err
		}
		if side >= 0 {
			b.depth[side]++
		}
		if i = skipSpace(msg, i); i < len(msg) && msg[i] == ',' {
			i = skipSpace(msg, i+1)
		}
	}
	if i >= len(msg) {
		return 0, errL2Malformed
	}
	return i + 1, nil
}

// set sets one level; size 0 removes it.
func (b *l2Book) set(side int, price, size []byte, in *interner) error {
	p, ok1 := in.canonical(price)
	s, ok2 := in.canonical(size)
	if !ok1 || !ok2 {
		return errL2Decimal
	}
	b.sides[side].set(p, s)
	return nil
}

// sideOf maps "buy" to 0 (bids) and "sell" to 1 (asks), anything else to -1.
func sideOf(s []byte) int {
	switch string(s) {
	case "buy":
		return 0
	case "sell":
		return 1
	}
	return -1
}

// stringArray reads the array of strings at msg[i] into out (their contents,
// escapes not allowed) and returns the index past it and how many it held.
func stringArray(msg []byte, i int, out [][]byte) (int, int, error) {
	if i >= len(msg) || msg[i] != '[' {
		return 0, 0, errL2LevelsFormat
	}
	n := 0
	for i = skipSpace(msg, i+1); i < len(msg) && msg[i] != ']'; n++ {
		end, ok := stringEnd(msg, i)
		if msg[i] != '"' || !ok || n == len(out) {
			return 0, 0, errL2LevelsFormat
		}
		out[n] = msg[i+1 : end]
		if i = skipSpace(msg, end+1); i < len(msg) && msg[i] == ',' {
			i = skipSpace(msg, i+1)
		}
	}
	if i >= len(msg) {
		return 0, 0, errL2Malformed
	}
	return i + 1, n, nil
}
