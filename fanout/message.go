package fanout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tickerfan/tickerfan/internal/jsonw"
)

// maxEcho bounds the bytes of a client's id or name echoed in an error reason.
const maxEcho = 64

// request is a parsed client message, validated against the known products.
type request struct {
	subscribe bool
	// want lists, per product index, the channels named for it.
	want map[int]channelMask
	// status is set when the status channel is named.
	status bool
	// dropAll lists channels named in an unsubscribe without any product ids:
	// the whole channel goes.
	dropAll channelMask
	// signed holds the authentication fields, checked when auth is on.
	signed signedFields
	// checksum asks for the checksum extension on the level2 channels this
	// request adds.
	checksum bool
	// resume holds, per product index, the last level2 sequence the client
	// saw (resume extension).
	resume map[int]uint64
}

// requestError is a recoverable problem with one client message: it is
// answered with an error message and the connection stays open.
type requestError struct {
	message string // "Failed to subscribe"
	reason  string
}

func (e *requestError) Error() string { return e.message + ": " + e.reason }

// wireRequest is what clients send. Authentication fields are accepted and
// ignored when authentication is off (timestamp may be a number or a string).
type wireRequest struct {
	Type       string            `json:"type"`
	ProductIDs []string          `json:"product_ids"`
	Channels   []json.RawMessage `json:"channels"`
	Key        string            `json:"key"`
	Passphrase string            `json:"passphrase"`
	Signature  string            `json:"signature"`
	Timestamp  json.RawMessage   `json:"timestamp"`
	Checksum   bool              `json:"checksum"` // extension: opt into level2 checksums
	Resume     map[string]uint64 `json:"resume"`   // extension: last level2 sequence seen per product
}

type wireChannel struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids"`
}

// parseRequest decodes and validates one client message. products maps a
// product id to its index. The whole message is rejected when any part of it
// is invalid, so a failed subscribe changes nothing.
func parseRequest(data []byte, products map[string]int) (*request, error) {
	var w wireRequest
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, &requestError{"Malformed JSON", jsonReason(err)}
	}
	req := &request{want: make(map[int]channelMask), signed: signedFields{
		key: w.Key, passphrase: w.Passphrase, signature: w.Signature, timestamp: w.Timestamp,
	}, checksum: w.Checksum}
	failed := "Failed to subscribe"
	switch w.Type {
	case "subscribe":
		req.subscribe = true
	case "unsubscribe":
		failed = "Failed to unsubscribe"
	default:
		return nil, &requestError{failed, "type has to be either subscribe or unsubscribe"}
	}
	if len(w.Channels) == 0 {
		return nil, &requestError{failed, "No channels provided"}
	}
	for id, seq := range w.Resume {
		idx, ok := products[id]
		if !ok {
			return nil, &requestError{failed, jsonw.Clip(id, maxEcho) + " is not a valid product"}
		}
		if req.resume == nil {
			req.resume = make(map[int]uint64, len(w.Resume))
		}
		req.resume[idx] = seq
	}
	for _, raw := range w.Channels {
		name, ids, err := decodeChannel(raw, w.ProductIDs)
		if err != nil {
			return nil, &requestError{failed, err.Error()}
		}
		if err := req.add(name, ids, products); err != nil {
			return nil, &requestError{failed, err.Error()}
		}
	}
	return req, nil
}

// decodeChannel reads a channel given as a string (it takes the root product
// ids) or as an object with its own product ids.
func decodeChannel(raw json.RawMessage, rootIDs []string) (string, []string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var name string
		if err := json.Unmarshal(raw, &name); err != nil {
			return "", nil, fmt.Errorf("channel name is not a valid string")
		}
		return name, rootIDs, nil
	}
	var ch wireChannel
	if err := json.Unmarshal(raw, &ch); err != nil {
		return "", nil, fmt.Errorf("a channel must be a name or {\"name\":...,\"product_ids\":[...]}")
	}
	if ch.Name == "" {
		return "", nil, fmt.Errorf("channel object without a name")
	}
	if ch.ProductIDs == nil {
		ch.ProductIDs = rootIDs
	}
	return ch.Name, ch.ProductIDs, nil
}

// add records one channel with its product ids into req.
func (req *request) add(name string, ids []string, products map[string]int) error {
	if unsupportedChannels[name] {
		return fmt.Errorf("channel %s is not supported: tickerfan serves aggregated market data "+
			"(level2, level2_batch, ticker, ticker_batch, matches, heartbeat, status)", jsonw.Clip(name, maxEcho))
	}
	ch, ok := lookupChannel(name)
	if !ok {
		return fmt.Errorf("%s is not a valid channel", jsonw.Clip(name, maxEcho))
	}
	if ch == chStatus {
		req.status = true
		return nil
	}
	if len(ids) == 0 {
		if req.subscribe {
			return fmt.Errorf("%s requires product_ids", jsonw.Clip(name, maxEcho))
		}
		req.dropAll |= maskOf(ch)
		return nil
	}
	for _, id := range ids {
		idx, ok := products[id]
		if !ok {
			return fmt.Errorf("%s is not a valid product", jsonw.Clip(id, maxEcho))
		}
		req.want[idx] |= maskOf(ch)
	}
	return nil
}

// jsonReason turns a decoding error into a short reason for the client.
func jsonReason(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}
