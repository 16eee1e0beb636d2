// Package indexset is a set with O(1) add and remove and a slice to iterate
// fast: the fan-out's subscriber sets and the transport's registry of live
// connections.
package indexset

// Set is the set. The zero value is empty and ready. Not safe for concurrent
// use: its owner's lock guards it.
type Set[T comparable] struct {
	list []T
	pos  map[T]int
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
	return true
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
