package model

import "errors"

// ErrBadSide is returned by ParseSide for anything but buy/sell/bid/ask; the
// message carrying it is malformed and should be counted and dropped.
var ErrBadSide = errors.New("model: side must be \"buy\" or \"sell\"")
