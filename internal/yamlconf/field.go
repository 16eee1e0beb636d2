// Package yamlconf decodes tickerfan's YAML files strictly: unknown keys are
// rejected, and every problem, syntax, type or value, is reported at once as
// `file:line: field: problem`. Both commands (tickerfan, tickerbench) use it.
package yamlconf

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is a problem with one configuration field. Field is the dotted
// YAML path relative to the config that reported it ("feeds[0].products",
// "max_queue_bytes"); Prefix makes it absolute.
type FieldError struct {
	Field string
	Msg   string
}

// Error renders "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Errorf returns a *FieldError for field with a formatted message.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Prefix returns err with every FieldError inside it (joined or single) moved
// under prefix: Prefix("server", {listen}) is {server.listen}. Other errors pass
// through unchanged. A nil err stays nil.
func Prefix(prefix string, err error) error {
	if err == nil {
		return nil
	}
	errs := Flatten(err)
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) {
			field := prefix
			switch {
			case fe.Field == "":
			case strings.HasPrefix(fe.Field, "["):
				field += fe.Field
			default:
				field += "." + fe.Field
			}
			e = &FieldError{Field: field, Msg: fe.Msg}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// Flatten lists the errors inside err, unwrapping errors.Join trees.
func Flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Flatten(e)...)
		}
		return out
	}
	return []error{err}
}
