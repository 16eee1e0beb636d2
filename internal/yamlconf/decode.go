package yamlconf

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a config file.
type Problem struct {
	File  string // the name given to Decode, or the path given to Load
	Line  int    // 1-based line in File; 0 when unknown
	Field string // dotted YAML path, "feeds[0].simulator.depth"; "" when not about one field
	Msg   string // what is wrong
}

// String renders the problem as "file:line: field: problem", leaving out
// ":line" when Line is 0 and "field: " when Field is empty.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if p.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every Problem of one file. Decode and Load return it, with
// Problems sorted by line; problems whose line is unknown come last.
type Error struct {
	Problems []Problem

	cause error // what Load could not read; see Unwrap
}

// Error renders one problem per line, sorted by line.
func (e *Error) Error() string {
	ps := slices.Clone(e.Problems)
	sortProblems(ps)
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the I/O error behind a failed Load, so that
// errors.Is(err, fs.ErrNotExist) works; nil for problems in the content.
func (e *Error) Unwrap() error { return e.cause }

// sortProblems orders ps by line, with unknown lines (0) last, and then by
// field, keeping the order of problems about the same field.
func sortProblems(ps []Problem) {
	line := func(p Problem) int {
		if p.Line <= 0 {
			return math.MaxInt
		}
		return p.Line
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), strings.Compare(a.Field, b.Field))
	})
}

// Load reads the file at path and decodes it into dst like Decode. A file
// that cannot be read is a single Problem naming path; the *Error then
// unwraps to the underlying error (fs.ErrNotExist for a missing file).
func Load(path string, dst any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error() // the path is already in front
		}
		return &Error{
			Problems: []Problem{{File: path, Msg: "cannot read config file: " + msg}},
			cause:    err,
		}
	}
	return Decode(path, data, dst)
}

// Decode decodes the YAML document in data into dst, which must be a non-nil
// pointer to a struct with yaml tags. name is the file name used in problems.
//
// Decoding is strict and reports everything at once: syntax errors, unknown
// and duplicate keys, values of the wrong type (including a failing
// yaml.Unmarshaler or encoding.TextUnmarshaler), and then whatever dst's
// Validate method, if it has one, returns. Fields absent from the file keep
// the values dst had, so defaults can be set before calling Decode; a list in
// the file replaces the default list, a mapping decoded into a Go map adds to
// the default entries, and a null value ("field: ~" or "field:") keeps the
// default, except that it clears a pointer, map or slice. An empty file is
// valid. The result is nil or an *Error with at least one Problem.
//
// Validate runs unless the file could not be parsed at all (or expands
// aliases beyond reason). Its *FieldErrors get the line of their field in the
// file, or of the nearest enclosing field that is there; those about a field
// whose value was already reported as undecodable are dropped, as they would
// only repeat that problem.
func Decode(name string, data []byte, dst any) error {
	d := newDecoder(name)
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		d.add(0, "", fmt.Sprintf("yamlconf: Decode needs a non-nil pointer to a struct, got %T", dst))
		return d.err()
	}
	root, ok := d.parse(data)
	if !ok {
		return d.err()
	}
	if root != nil {
		d.top(root, rv.Elem())
	}
	if d.budget >= 0 { // else the file is hostile, and Validate would only add noise
		d.validate(dst)
	}
	return d.err()
}

// syntaxLine matches the "yaml: line N: problem" errors of yaml.v3's parser.
var syntaxLine = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)

// parse returns the document's top node, nil for an empty file, and false
// when the file is not valid YAML (the problem is recorded).
func (d *decoder) parse(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safely(func() error { return dec.Decode(&doc) }); err != nil {
		if err == io.EOF {
			return nil, true
		}
		d.syntax(err)
		return nil, false
	}
	var next yaml.Node
	switch err := safely(func() error { return dec.Decode(&next) }); {
	case err == io.EOF:
	case err != nil:
		d.syntax(err)
		return nil, false
	default:
		d.add(next.Line, "", "a config file holds one YAML document; found another one here")
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return doc.Content[0], true
}

// syntax records a parse error, with the line yaml.v3 reports if any.
//
// That line is exact for the scanner's errors (a tab, an unclosed quote), but
// the parser's "did not find expected ..." errors name the line where the
// enclosing block starts or the line before the mistake (go-yaml/yaml#542,
// #1066), so those get a hint.
func (d *decoder) syntax(err error) {
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		msg := "syntax error: " + m[2]
		if strings.HasPrefix(m[2], "did not find expected") {
			msg += " (the mistake may be on a later line; check the indentation)"
		}
		d.add(line, "", msg)
		return
	}
	d.add(0, "", "syntax error: "+strings.TrimPrefix(err.Error(), "yaml: "))
}

// top decodes the document's top node, which must be a mapping (or null).
func (d *decoder) top(n *yaml.Node, v reflect.Value) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "", "the top level must be a mapping of fields, got "+describe(n))
		return
	}
	d.value(n, v, "")
}

// validate calls dst.Validate, if there is one, and records what it returns.
func (d *decoder) validate(dst any) {
	val, ok := dst.(interface{ Validate() error })
	if !ok {
		return
	}
	for _, err := range Flatten(val.Validate()) {
		var fe *FieldError
		if !errors.As(err, &fe) {
			d.add(0, "", err.Error())
			continue
		}
		if d.hides(fe.Field) {
			continue
		}
		d.add(d.lineOf(fe.Field), fe.Field, fe.Msg)
	}
}

// safely runs f, turning a panic inside yaml.v3 or a user's unmarshaler into
// an error: Decode promises not to panic on any input.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while decoding: %v", r)
		}
	}()
	return f()
}
