package transport

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Kind tells the connections apart in the counts: every accepted connection
// is one of them until it closes.
type Kind uint8

const (
	// KindHandshake: accepted, its request head not yet read. Bounded by
	// max_handshakes, not by max_connections.
	KindHandshake Kind = iota
	// KindWebSocket: upgraded.
	KindWebSocket
	// KindHTTP: handed to the HTTP server (REST, /healthz, the dashboard),
	// until it closes (idle timeout included).
	KindHTTP
	numKinds
)

func (k Kind) String() string {
	return [...]string{"handshake", "websocket", "http"}[k]
}

// fdReserve is the file descriptors kept below RLIMIT_NOFILE for everything
// that is not a client: the listener, the two epoll instances, upstream
// feeds, NATS, log and recording files, /proc reads of the metrics.
const fdReserve = 128

// fitFileLimit reads RLIMIT_NOFILE, logs it, and lowers max_connections so
// max_connections + max_handshakes + fdReserve descriptors fit under it: past
// the limit accept fails with EMFILE and nobody, /healthz included, gets in.
// (Go raises the soft limit to the hard one at start.)
func fitFileLimit(cfg *Config, log *zap.Logger) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		log.Warn("cannot read the open-file limit; max_connections left as configured", zap.Error(err))
		return
	}
	room := int64(rl.Cur) - int64(cfg.MaxHandshakes) - fdReserve
	log.Info("open-file limit", zap.Uint64("nofile", rl.Cur), zap.Int("max_connections", cfg.MaxConnections),
		zap.Int("max_handshakes", cfg.MaxHandshakes), zap.Int("reserve", fdReserve))
	if int64(cfg.MaxConnections) <= room {
		return
	}
	clamped := int(max(room, 1))
	log.Warn("max_connections lowered to fit the open-file limit (raise LimitNOFILE / ulimit -n to allow more)",
		zap.Int("configured", cfg.MaxConnections), zap.Int("max_connections", clamped), zap.Uint64("nofile", rl.Cur))
	cfg.MaxConnections = clamped
}

// slots counts every open connection by kind. WebSocket and HTTP connections
// share one limit, max_connections, and take their slot with reserve, an
// atomic compare-and-swap, before they are registered: two handshakes racing
// for the last slot cannot both win.
type slots struct {
	max  int64
	used atomic.Int64 // websocket + http
	open [numKinds]atomic.Int64
}

// reserve takes a slot of kind k (KindWebSocket or KindHTTP) if one is free.
func (sl *slots) reserve(k Kind) bool {
	for {
		n := sl.used.Load()
		if n >= sl.max {
			return false
		}
		if sl.used.CompareAndSwap(n, n+1) {
			sl.open[k].Add(1)
			return true
		}
	}
}

// release gives back a slot reserve took.
func (sl *slots) release(k Kind) {
	sl.used.Add(-1)
	sl.open[k].Add(-1)
}

// Open is the number of open connections of kind k.
func (s *Server) Open(k Kind) int { return int(s.slots.open[k].Load()) }

// ipTable applies the per-client-address limits: open connections (of any
// kind, handshakes included), handshakes in progress and new handshakes per
// second (a token bucket). It keeps an entry only while its address has a
// connection or an unrefilled bucket, and nothing at all when every per-IP
// limit is off. Its mu is a leaf.
type ipTable struct {
	maxConns, maxHandshakes int
	rate                    float64 // handshakes per second; 0: no limit
	mu                      sync.Mutex
	m                       map[netip.Addr]*ipCount
}

type ipCount struct {
	conns, handshakes int
	tokens            float64
	at                time.Time
}

func (t *ipTable) enabled() bool { return t.maxConns > 0 || t.maxHandshakes > 0 || t.rate > 0 }

// admit counts a new connection of ip and its handshake, or reports false
// when one of ip's limits is reached (nothing counted).
func (t *ipTable) admit(ip netip.Addr, now time.Time) bool {
	if !t.enabled() {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[ip]
	if e == nil {
		e = &ipCount{tokens: t.burst(), at: now}
	}
	if t.rate > 0 {
		e.tokens = min(t.burst(), e.tokens+now.Sub(e.at).Seconds()*t.rate)
		e.at = now
	}
	switch {
	case t.maxConns > 0 && e.conns >= t.maxConns,
		t.maxHandshakes > 0 && e.handshakes >= t.maxHandshakes,
		t.rate > 0 && e.tokens < 1:
		t.forget(ip, e)
		return false
	}
	if t.rate > 0 {
		e.tokens--
	}
	e.conns++
	e.handshakes++
	if t.m == nil {
		t.m = make(map[netip.Addr]*ipCount)
	}
	t.m[ip] = e
	return true
}

// burst is the handshakes an address may start at once: one second's worth.
func (t *ipTable) burst() float64 { return max(1, t.rate) }

// handshakeDone ends ip's handshake (the connection stays counted).
func (t *ipTable) handshakeDone(ip netip.Addr) { t.update(ip, 0, -1) }

// closed ends ip's connection; handshake says whether its handshake was
// still in progress.
func (t *ipTable) closed(ip netip.Addr, handshake bool) {
	if handshake {
		t.update(ip, -1, -1)
		return
	}
	t.update(ip, -1, 0)
}

func (t *ipTable) update(ip netip.Addr, conns, handshakes int) {
	if !t.enabled() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.m[ip]; e != nil {
		e.conns += conns
		e.handshakes += handshakes
		t.forget(ip, e)
	}
}

// forget drops ip's entry once it counts nothing: a flood from many
// addresses leaves no map behind (a fresh map replaces an emptied one, since
// a Go map never shrinks). mu must be held.
func (t *ipTable) forget(ip netip.Addr, e *ipCount) {
	if e.conns > 0 || e.handshakes > 0 || (t.rate > 0 && e.tokens < t.burst()) {
		return
	}
	delete(t.m, ip)
	if len(t.m) == 0 {
		t.m = nil
	}
}

// prune drops the entries that count nothing and whose bucket has refilled;
// the sweeper calls it.
func (t *ipTable) prune(now time.Time) {
	if !t.enabled() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for ip, e := range t.m {
		if e.conns == 0 && e.handshakes == 0 && e.tokens+now.Sub(e.at).Seconds()*t.rate >= t.burst() {
			delete(t.m, ip)
		}
	}
	if len(t.m) == 0 {
		t.m = nil
	}
}

// addrOf is nc's remote IP (the zero Addr if it is not TCP).
func addrOf(nc net.Conn) netip.Addr {
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}
