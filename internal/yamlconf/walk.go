package yamlconf

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// aliasBudget bounds the nodes visited through aliases and merges, so that a
// "billion laughs" document costs a bounded amount of work. Real configs
// expand a few hundred nodes at most.
const aliasBudget = 1 << 17

// decoder walks a yaml.Node tree alongside the Go value it decodes into.
//
// It does the structural part itself, structs, maps, slices and pointers,
// so that it knows the path of every node, and hands each leaf to yaml.v3
// (Node.Decode). Decoding the whole tree with one Node.Decode would lose
// problems: yaml.v3 stops at the first failing TextUnmarshaler (a bad
// decimal), reports no line for it, drops list items that fail to decode
// (shifting the indices Validate reports), and skips a whole mapping that
// has a duplicate key.
type decoder struct {
	file     string
	problems []Problem
	lines    map[string]int      // field path -> line of its key or list item
	bad      map[string]bool     // field paths whose value could not be decoded
	active   map[*yaml.Node]bool // anchors being expanded, to catch self-reference
	depth    int                 // > 0 while inside an alias or merge
	budget   int                 // nodes left to visit through aliases and merges
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:   file,
		lines:  make(map[string]int),
		bad:    make(map[string]bool),
		active: make(map[*yaml.Node]bool),
		budget: aliasBudget,
	}
}

// add records a problem.
func (d *decoder) add(line int, field, msg string) {
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Field: field, Msg: msg})
}

// fail records that the value at path could not be decoded.
func (d *decoder) fail(line int, path, msg string) {
	d.bad[path] = true
	d.add(line, path, msg)
}

// err returns the problems found, sorted and without repeats, or nil.
func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	seen := make(map[Problem]bool, len(d.problems))
	ps := d.problems[:0]
	for _, p := range d.problems {
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	sortProblems(ps)
	return &Error{Problems: ps}
}

// note remembers the line of path, the first time it is seen.
func (d *decoder) note(path string, line int) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = line
	}
}

// lineOf returns the line of path, or of its nearest ancestor present in the
// file, or 0.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if line, ok := d.lines[path]; ok {
			return line
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
	return 0
}

// hides reports whether path is, or is inside, a value that failed to decode.
func (d *decoder) hides(path string) bool {
	for path != "" {
		if d.bad[path] {
			return true
		}
		path = path[:max(strings.LastIndexAny(path, ".["), 0)]
	}
	return false
}

// value decodes n into v, which must be settable; path names v in problems.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.depth > 0 && !d.spend(1, n.Line, path) {
		return
	}
	t := v.Type()
	switch {
	case isLeaf(t):
		d.leaf(n, v, path)
	case n.Kind == yaml.AliasNode:
		d.alias(n, v, path)
	case isNull(n):
		if k := t.Kind(); k == reflect.Pointer || k == reflect.Map || k == reflect.Slice {
			v.SetZero() // as yaml.v3 does: "field: ~" clears it
		}
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.value(n, v.Elem(), path)
	case n.Kind != yaml.MappingNode && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map),
		n.Kind != yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		d.mismatch(n, t, path)
	case t.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case t.Kind() == reflect.Map:
		d.mapping(n, v, path)
	default:
		d.sequence(n, v, path)
	}
}

// alias decodes the node an alias refers to.
func (d *decoder) alias(n *yaml.Node, v reflect.Value, path string) {
	if n.Alias == nil || d.active[n.Alias] {
		d.fail(n.Line, path, fmt.Sprintf("alias *%s refers to the value that contains it", n.Value))
		return
	}
	d.active[n.Alias] = true
	d.depth++
	d.value(n.Alias, v, path)
	d.depth--
	delete(d.active, n.Alias)
}

// structure decodes mapping n into the struct v field by field, reporting
// keys that match no field.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	info, err := structInfoOf(v.Type())
	if err != nil {
		d.fail(n.Line, path, err.Error())
		return
	}
	for _, index := range info.unmarshalers {
		if f, ok := fieldAt(v, index); ok {
			d.leaf(n, f, path)
		}
	}
	for _, e := range d.entries(n, path) {
		fp := join(path, e.name)
		f, known := info.fields[e.name]
		switch {
		case known:
			d.note(fp, e.key.Line)
			fv, ok := fieldAt(v, f)
			if !ok {
				d.fail(e.key.Line, fp, "yamlconf: cannot set a field behind an unexported embedded pointer")
				continue
			}
			d.value(e.val, fv, fp)
		case info.inlineMap != nil:
			d.note(fp, e.key.Line)
			if m, ok := fieldAt(v, info.inlineMap); ok {
				d.entry(e, m, fp)
			}
		case len(info.unmarshalers) == 0:
			d.add(e.key.Line, fp, unknownField(e.name, info.names))
		}
	}
}

// mapping decodes mapping n into the map v, adding to what it holds.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	for _, e := range d.entries(n, path) {
		fp := join(path, e.name)
		d.note(fp, e.key.Line)
		d.entry(e, v, fp)
	}
}

// entry decodes one key and value into the map m, creating m if it is nil.
// A value that fails to decode is still stored, as its zero value, so that
// Validate sees the key; its own problems are hidden (see hides).
func (d *decoder) entry(e entry, m reflect.Value, path string) {
	k := reflect.New(m.Type().Key()).Elem()
	if !d.leaf(e.key, k, path) {
		return
	}
	val := reflect.New(m.Type().Elem()).Elem()
	d.value(e.val, val, path)
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	m.SetMapIndex(k, val)
}

// sequence decodes sequence n into the slice or array v. A slice is replaced,
// not appended to. An item that fails to decode keeps its zero value, so the
// indices Validate reports still match the file.
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	items := n.Content
	if v.Kind() == reflect.Array {
		if len(items) != v.Len() {
			d.fail(n.Line, path, fmt.Sprintf("expected a list of %d items, got %d", v.Len(), len(items)))
			return
		}
	} else {
		v.Set(reflect.MakeSlice(v.Type(), len(items), len(items)))
	}
	for i, item := range items {
		ip := path + "[" + strconv.Itoa(i) + "]"
		d.note(ip, item.Line)
		d.value(item, v.Index(i), ip)
	}
}

// leaf decodes n into v with yaml.v3 and reports whether that worked.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) bool {
	t := v.Type()
	if n.Kind == yaml.AliasNode && !d.spend(len(resolve(n).Content)+1, n.Line, path) {
		return false
	}
	if textOnly(t) && resolve(n).Kind != yaml.ScalarNode {
		d.mismatch(n, t, path)
		return false
	}
	tmp := reflect.New(t)
	tmp.Elem().Set(v) // keep defaults an unmarshaler may build on
	if err := safely(func() error { return n.Decode(tmp.Interface()) }); err != nil {
		d.leafError(n, t, path, err)
		return false
	}
	if truncated(n, t) {
		d.mismatch(n, t, path)
		return false
	}
	v.Set(tmp.Elem())
	return true
}

// typeErrorLine matches one entry of a yaml.TypeError: "line 7: problem".
var typeErrorLine = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// leafError records why n could not be decoded into a t.
func (d *decoder) leafError(n *yaml.Node, t reflect.Type, path string, err error) {
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te) && plain(t):
		d.mismatch(n, t, path)
	case te != nil:
		// From a yaml.Unmarshaler, which may point into n.
		for _, s := range te.Errors {
			line, msg := n.Line, s
			if m := typeErrorLine.FindStringSubmatch(s); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			d.fail(line, path, msg)
		}
	default:
		what := "value " + describe(n)
		if resolve(n).Kind != yaml.ScalarNode {
			what = strings.TrimPrefix(describe(n), "a ") // "invalid list: ..."
		}
		d.fail(n.Line, path, "invalid "+what+": "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
}

// mismatch records that n is not something a t can be decoded from.
func (d *decoder) mismatch(n *yaml.Node, t reflect.Type, path string) {
	d.fail(n.Line, path, "expected "+want(t)+", got "+describe(n))
}

// join appends a mapping key to path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
