package yamlconf

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	durationType    = reflect.TypeFor[time.Duration]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	// obsoleteType is yaml.v2's Unmarshaler, which yaml.v3 still honours.
	obsoleteType = reflect.TypeFor[interface {
		UnmarshalYAML(unmarshal func(any) error) error
	}]()
	textType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unmarshals reports whether yaml.v3 lets a t decode itself from YAML.
func unmarshals(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(unmarshalerType) || p.Implements(obsoleteType)
}

// customized reports whether a t decodes itself, from YAML or from text.
func customized(t reflect.Type) bool {
	return unmarshals(t) || reflect.PointerTo(t).Implements(textType)
}

// isLeaf reports whether a t is handed to yaml.v3 whole: anything but
// structs, maps, slices and arrays, and pointers to them, that do not decode
// themselves.
func isLeaf(t reflect.Type) bool {
	for ; ; t = t.Elem() {
		if t == nodeType || customized(t) {
			return true
		}
		if t.Kind() != reflect.Pointer {
			break
		}
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return false
	}
	return true
}

// textOnly reports whether a t decodes itself from text but not from YAML,
// like decimal.Decimal and time.Time: yaml.v3 only uses UnmarshalText for
// scalars and would fill such a struct's fields from a mapping silently.
func textOnly(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nodeType && !unmarshals(t) && reflect.PointerTo(t).Implements(textType)
}

// plain reports whether t is a bool, number or string that yaml.v3 decodes
// itself, so a yaml.TypeError about it can be rephrased with want.
func plain(t reflect.Type) bool {
	for ; ; t = t.Elem() {
		if customized(t) {
			return false
		}
		if t.Kind() != reflect.Pointer {
			break
		}
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64:
		return true
	}
	return isInt(t.Kind())
}

func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uintptr
}

// truncated reports whether yaml.v3 would cut a fraction off n to fit an
// integer t: it decodes "workers: 1.5" as 1 without complaint.
func truncated(n *yaml.Node, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	n = resolve(n)
	if !plain(t) || !isInt(t.Kind()) || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!float" {
		return false
	}
	var f float64
	if n.Decode(&f) != nil {
		return false
	}
	return f != math.Trunc(f) || math.IsInf(f, 0)
}

// want describes what a t is decoded from, for "expected ..., got ...".
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch k := t.Kind(); {
	case t == durationType:
		return `a duration such as "5s" or "250ms"`
	case customized(t):
		return "a " + t.String() + " value"
	case k == reflect.Bool:
		return "true or false"
	case k == reflect.Int || k == reflect.Int64:
		return "an integer"
	case k >= reflect.Int8 && k <= reflect.Int32:
		return "an integer that fits in " + k.String()
	case k == reflect.Uint || k == reflect.Uint64 || k == reflect.Uintptr:
		return "a non-negative integer"
	case k >= reflect.Uint8 && k <= reflect.Uint32:
		return "a non-negative integer that fits in " + k.String()
	case k == reflect.Float32 || k == reflect.Float64:
		return "a number"
	case k == reflect.String:
		return "a string"
	case k == reflect.Struct || k == reflect.Map:
		return "a mapping"
	case k == reflect.Slice:
		return "a list"
	case k == reflect.Array:
		return fmt.Sprintf("a list of %d items", t.Len())
	}
	return "a " + t.String() + " value"
}

// describe names what n is, for "expected ..., got ...": a scalar is quoted,
// and cut short if long.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:37]) + "..."
		}
		return strconv.Quote(v)
	}
	return "an alias to nothing"
}

// unknownField is the message for a key that matches no field.
func unknownField(name string, known []string) string {
	if len(known) == 0 {
		return fmt.Sprintf("unknown field %q; this section has no fields", name)
	}
	return fmt.Sprintf("unknown field %q; known fields: %s", name, strings.Join(known, ", "))
}

// structInfo is what the yaml tags of a struct type say, following the rules
// of yaml.v3: the key is the tag's name or the lower-cased field name, "-"
// skips a field, ",inline" merges a struct's fields (or collects the
// remaining keys in a map), and embedded structs are not inlined without it.
type structInfo struct {
	fields       map[string][]int // key -> index path, through inlined structs
	names        []string         // the keys, sorted, for "known fields: ..."
	inlineMap    []int            // index path of the ",inline" map; nil if none
	unmarshalers [][]int          // index paths of ",inline" structs that decode themselves
}

type structResult struct {
	info *structInfo
	err  error
}

var structInfos sync.Map // reflect.Type -> structResult

// structInfoOf returns what the tags of struct type t say, or why they are
// wrong (a programming error, reported as a problem rather than a panic).
func structInfoOf(t reflect.Type) (*structInfo, error) {
	if r, ok := structInfos.Load(t); ok {
		return r.(structResult).info, r.(structResult).err
	}
	info, err := buildInfo(t, make(map[reflect.Type]bool))
	if err != nil {
		err = fmt.Errorf("yamlconf: %w", err)
	}
	structInfos.Store(t, structResult{info, err})
	return info, err
}

func buildInfo(t reflect.Type, visiting map[reflect.Type]bool) (*structInfo, error) {
	if visiting[t] {
		return nil, fmt.Errorf("%s inlines itself", t)
	}
	visiting[t] = true
	defer delete(visiting, t)
	info := &structInfo{fields: make(map[string][]int)}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		key, inline, err := parseTag(f)
		switch {
		case err != nil:
		case key == "-":
		case inline:
			err = info.inline(f.Type, i, visiting)
		case f.IsExported():
			err = info.add(key, []int{i})
		}
		if err != nil {
			return nil, fmt.Errorf("field %s of %s: %w", f.Name, t, err)
		}
	}
	for k := range info.fields {
		info.names = append(info.names, k)
	}
	slices.Sort(info.names)
	return info, nil
}

// parseTag returns the key of field f ("-" to skip it) and its inline flag.
func parseTag(f reflect.StructField) (key string, inline bool, err error) {
	tag, ok := f.Tag.Lookup("yaml")
	if !ok && !strings.Contains(string(f.Tag), ":") {
		tag = string(f.Tag) // yaml.v3 accepts a bare `name` tag
	}
	if tag == "-" {
		return "-", false, nil
	}
	key, flags, _ := strings.Cut(tag, ",")
	for flag := range strings.SplitSeq(flags, ",") {
		switch flag {
		case "", "omitempty", "flow":
		case "inline":
			inline = true
		default:
			return "", false, fmt.Errorf("unsupported yaml tag flag %q", flag)
		}
	}
	if key == "" {
		key = strings.ToLower(f.Name)
	}
	return key, inline, nil
}

func (info *structInfo) add(key string, index []int) error {
	if _, dup := info.fields[key]; dup {
		return fmt.Errorf("two fields have the yaml key %q", key)
	}
	info.fields[key] = index
	return nil
}

// inline adds the fields of ",inline" field number i, of type ft.
func (info *structInfo) inline(ft reflect.Type, i int, visiting map[reflect.Type]bool) error {
	if ft.Kind() == reflect.Map {
		if ft.Key().Kind() != reflect.String {
			return errors.New("an ,inline map needs string keys")
		}
		if info.inlineMap != nil {
			return errors.New("a struct can have only one ,inline map")
		}
		info.inlineMap = []int{i}
		return nil
	}
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	if ft.Kind() != reflect.Struct {
		return errors.New(",inline works only on a struct or a map")
	}
	if unmarshals(ft) {
		info.unmarshalers = append(info.unmarshalers, []int{i})
		return nil
	}
	sub, err := buildInfo(ft, visiting)
	if err != nil {
		return err
	}
	prefixed := func(index []int) []int { return append([]int{i}, index...) }
	for _, u := range sub.unmarshalers {
		info.unmarshalers = append(info.unmarshalers, prefixed(u))
	}
	if sub.inlineMap != nil {
		if info.inlineMap != nil {
			return errors.New("a struct can have only one ,inline map")
		}
		info.inlineMap = prefixed(sub.inlineMap)
	}
	for key, index := range sub.fields {
		if err := info.add(key, prefixed(index)); err != nil {
			return err
		}
	}
	return nil
}

// fieldAt returns the field of struct v at index, allocating nil pointers to
// inlined structs on the way; false if that field cannot be set.
func fieldAt(v reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, v.CanSet()
}
