package record

import "errors"

// ErrBadRecord is returned by Reader.Next for a line that is not a
// record (wrapped with the line number); the reader stays usable and a
// replay counts the line as malformed and goes on.
var ErrBadRecord = errors.New("record: bad record")

// ErrRecordTooLong is returned by Reader.Next for a line longer than
// the reader's limit; the file cannot be read further.
var ErrRecordTooLong = errors.New("record: record line too long")
