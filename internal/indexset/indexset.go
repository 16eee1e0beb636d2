// Package indexset is a set with O(1) add and remove and a slice to iterate
// fast: the fan-out's subscriber sets and the transport's registry of live
// connections.
package indexset

// Set is the set. The zero value is empty and ready. Not safe for concurrent
// use: its owner's lock guards it.
type Set[T comparable] struct {
	list []T
	pos  map[T]int
	peak int // members when list and pos were last built: see shrink
}

// Add adds v and reports whether it was not a member yet.
func (s *Set[T]) Add(v T) bool {
	if s.pos == nil {
		s.pos = make(map[T]int)
	}
	if _, ok := s.pos[v]; ok {
		return false
	}
	s.pos[v] = len(s.list)
	s.list = append(s.list, v)
	s.peak = max(s.peak, len(s.list))
	return true
}

// Remove removes v and reports whether it was a member. The last member
// takes v's place.
func (s *Set[T]) Remove(v T) bool {
	i, ok := s.pos[v]
	if !ok {
		return false
	}
	last := len(s.list) - 1
	s.list[i] = s.list[last]
	s.pos[s.list[i]] = i
	var zero T
	s.list[last] = zero
	s.list = s.list[:last]
	delete(s.pos, v)
	s.shrink()
	return true
}

// shrinkFrom is the smallest peak worth shrinking from.
const shrinkFrom = 256

// shrink gives back the memory of a set that emptied or fell to a quarter of
// its peak: a Go map never shrinks, so after a flood of 10,000 subscribers
// the index would keep their buckets for good. Rebuilding costs O(members)
// after at least three times as many removals: O(1) amortized.
func (s *Set[T]) shrink() {
	switch {
	case len(s.list) == 0:
		s.list, s.pos, s.peak = nil, nil, 0
	case s.peak >= shrinkFrom && 4*len(s.list) <= s.peak:
		s.list = append(make([]T, 0, 2*len(s.list)), s.list...)
		s.pos = make(map[T]int, len(s.list))
		for i, v := range s.list {
			s.pos[v] = i
		}
		s.peak = len(s.list)
	}
}

// Has reports whether v is a member.
func (s *Set[T]) Has(v T) bool {
	_, ok := s.pos[v]
	return ok
}

// Len is the number of members.
func (s *Set[T]) Len() int { return len(s.list) }

// List is the members, in no particular order. It is the set's own slice:
// valid until the next Add or Remove, and not to be modified.
func (s *Set[T]) List() []T { return s.list }
