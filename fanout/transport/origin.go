package transport

import (
	"fmt"
	"net"
	"strings"

	"github.com/gobwas/ws"
)

// Origin checks (RFC 6454; RFC 6455, 10.2). A browser sends the page's origin
// with every WebSocket upgrade and cross-origin EventSource request, and lets
// any page open them: without a check, a page on another site can read the
// feed through its visitors' browsers (cross-site WebSocket hijacking). A
// request without Origin is not from a page a browser runs (curl, the Go
// client, tickerbench, a server-side proxy): nothing to protect it from, so
// it is allowed.

// originPattern is one entry of Config.AllowedOrigins.
type originPattern struct {
	scheme string // "" matches any
	host   string // exact host[:port], or the suffix ".example.com" of a wildcard
	wild   bool
}

func parseOriginPattern(p string) (originPattern, error) {
	var op originPattern
	rest := strings.ToLower(strings.TrimSpace(p))
	if scheme, host, ok := strings.Cut(rest, "://"); ok {
		op.scheme, rest = scheme, host
	}
	if strings.HasPrefix(rest, "*.") {
		op.wild, rest = true, rest[1:]
	}
	switch {
	case rest == "" || rest == ".":
		return op, fmt.Errorf("transport: AllowedOrigins: %q names no host", p)
	case strings.ContainsAny(rest, "/*?# "):
		return op, fmt.Errorf("transport: AllowedOrigins: %q must be scheme://host[:port] or *.domain, with no path", p)
	}
	op.host = rest
	return op, nil
}

// match reports whether the (lower-case) origin matches.
func (op originPattern) match(scheme, host string) bool {
	if op.scheme != "" && op.scheme != scheme {
		return false
	}
	if !op.wild {
		return op.host == host
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil && !strings.Contains(op.host, ":") {
		name = h
	}
	return strings.HasSuffix(name, op.host)
}

// originAllowed reports whether a request with this Origin header value may
// connect: always when AllowedOrigins is empty or origin is (no header).
func (s *Server) originAllowed(origin string) bool {
	if len(s.origins) == 0 || origin == "" {
		return true
	}
	scheme, host, ok := strings.Cut(strings.ToLower(origin), "://")
	if !ok {
		return false // "null" (a sandboxed page, a file:) or garbage
	}
	for _, op := range s.origins {
		if op.match(scheme, host) {
			return true
		}
	}
	return false
}

// CheckOrigin reports whether a request with this Origin header value may
// connect, and counts a refusal (Stats.RefusedOrigin). The protocol calls it
// for event streams; upgrades are checked by the transport itself.
func (s *Server) CheckOrigin(origin string) bool {
	if s.originAllowed(origin) {
		return true
	}
	s.stats.RefusedOrigin.Add(1)
	return false
}

// errOrigin refuses an upgrade from a page of a foreign origin.
var errOrigin = ws.RejectConnectionError(ws.RejectionStatus(403),
	ws.RejectionReason("origin not allowed"))

// checkOriginHeader is the upgrader's OnHeader: it refuses a foreign Origin.
func (s *Server) checkOriginHeader(key, value []byte) error {
	if len(s.origins) == 0 || !strings.EqualFold(string(key), "Origin") {
		return nil
	}
	if !s.CheckOrigin(string(value)) {
		return errOrigin
	}
	return nil
}
