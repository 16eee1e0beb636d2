package bench

import "strings"

// l2Side is one side of a subscriber's book: levels in ascending price
// order, both strings canonical (appendCanonical) and mostly interned. A
// sorted slice, not a map: a book is touched rarely and cold, and one
// contiguous array costs one or two cache misses per update where a map
// costs several (2,000 level2 subscribers of 2 products at 50 updates/s:
// keeping the books took 24% of the tool's CPU with maps, 16% with this).
type l2Side []l2Level

type l2Level struct{ price, size string }

// linearLevels is the depth up to which find first looks for an equal
// price one level after the other: an update almost always changes a level
// that is there, and interned prices compare equal at their pointers.
const linearLevels = 32

// find returns where price is or would go, and whether it is there.
func (s l2Side) find(price string) (int, bool) {
	if len(s) <= linearLevels {
		for i := range s {
			if s[i].price == price {
				return i, true
			}
		}
	}
	lo, hi := 0, len(s) // binary search: the first level not below price
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cmpCanonical(s[mid].price, price) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(s) && s[lo].price == price
}

// get returns the size at price, "" when there is no such level.
func (s l2Side) get(price string) string {
	if i, ok := s.find(price); ok {
		return s[i].size
	}
	return ""
}

// set sets the level at price to size; size "0" removes it.
func (s *l2Side) set(price, size string) {
	i, ok := s.find(price)
	switch {
	case ok && size == "0":
		*s = append((*s)[:i], (*s)[i+1:]...)
	case ok:
		(*s)[i].size = size
	case size != "0":
		*s = append(*s, l2Level{})
		copy((*s)[i+1:], (*s)[i:])
		(*s)[i] = l2Level{price, size}
	}
}

// cmpCanonical compares two canonical decimals numerically. Without leading
// zeros, a longer integer part is a larger magnitude; with integer parts of
// one length, the bytes compare as the numbers do.
func cmpCanonical(a, b string) int {
	negA, negB := strings.HasPrefix(a, "-"), strings.HasPrefix(b, "-")
	switch {
	case negA && negB:
		return -cmpMagnitude(a[1:], b[1:])
	case negA:
		return -1
	case negB:
		return 1
	}
	return cmpMagnitude(a, b)
}

func cmpMagnitude(a, b string) int {
	la, lb := intLen(a), intLen(b)
	switch {
	case la < lb:
		return -1
	case la > lb:
		return 1
	}
	return strings.Compare(a, b)
}

// intLen is the length of the integer part of a decimal.
func intLen(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return i
	}
	return len(s)
}
