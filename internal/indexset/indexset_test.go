package indexset

import (
	"slices"
	"testing"
)

func TestSet(t *testing.T) {
	var s Set[int]
	steps := []struct {
		op   string
		v    int
		ok   bool
		want []int
	}{
		{"add", 1, true, []int{1}},
		{"add", 2, true, []int{1, 2}},
		{"add", 1, false, []int{1, 2}},
		{"add", 3, true, []int{1, 2, 3}},
		{"remove", 1, true, []int{3, 2}},
		{"remove", 1, false, []int{3, 2}},
		{"remove", 2, true, []int{3}},
	}
	for i, st := range steps {
		var ok bool
		if st.op == "add" {
			ok = s.Add(st.v)
		} else {
			ok = s.Remove(st.v)
		}
		if ok != st.ok || !slices.Equal(s.List(), st.want) || s.Len() != len(st.want) {
			t.Fatalf("step %d %s %d: ok %v list %v, want %v %v", i, st.op, st.v, ok, s.List(), st.ok, st.want)
		}
		for _, v := range st.want {
			if !s.Has(v) {
				t.Fatalf("step %d: Has(%d) false", i, v)
			}
		}
	}
}

// A set that falls to a quarter of its peak gives the memory back: after a
// flood of 10,000 members, 10 left hold room for at most 2*shrinkFrom.
func TestShrinksAfterAFlood(t *testing.T) {
	var s Set[int]
	for i := 0; i < 10000; i++ {
		s.Add(i)
	}
	for i := 10; i < 10000; i++ {
		s.Remove(i)
	}
	if s.Len() != 10 || cap(s.List()) > 2*shrinkFrom {
		t.Fatalf("len %d cap %d after removing 9,990 of 10,000", s.Len(), cap(s.List()))
	}
	for i := 0; i < 10; i++ {
		if !s.Has(i) || s.List()[s.pos[i]] != i {
			t.Fatalf("member %d lost or misplaced after shrinking", i)
		}
	}
	for i := 0; i < 10; i++ {
		s.Remove(i)
	}
	if s.List() != nil || s.pos != nil {
		t.Fatal("an emptied set still holds its slice or map")
	}
}
