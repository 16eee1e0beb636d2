package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"

	"github.com/tickerfan/tickerfan/internal/netpoll"
)

// slowTick is how often slow subscribers get their read budget back.
const slowTick = 100 * time.Millisecond

// maxSamples bounds the example messages kept for each kind of problem.
const maxSamples = 5

// Swarm is the subscriber side of a run: many WebSocket connections, each
// subscribed to its products and channels, read by a few reader goroutines
// woken by one epoll poller. Connections cost no goroutine and, when idle,
// no buffer. NewSwarm starts the readers and the slow-consumer ticker;
// Close stops them and closes every connection.
type Swarm struct {
	cfg      Profile
	url      string
	loopback bool
	products []string
	index    map[string]int32
	pick     *picker
	// trackBooks makes every subscriber keep its level-2 books, for the
	// end-of-run check against the upstream's (runner.checkBooks).
	trackBooks bool

	poller  *netpoll.Poller
	readers []*reader
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  sync.Once

	mu          sync.Mutex // guards the fields below
	conns       []*conn
	next        int // index of the next connection to open
	connectHist *hdrhistogram.Histogram
	connectErrs map[string]int64
	closes      map[string]int64
	samples     map[string][]string

	slowMu sync.Mutex
	parked []*conn

	// sendFrom and sendTo bound, in µs, the send times of the upstream
	// messages readers count in bySend (see measureSendWindow); sendFrom 0
	// counts none, sendTo 0 leaves the window open.
	sendFrom, sendTo atomic.Int64

	// slowEnded lets slow subscribers read at full speed: the overload is
	// over (runner.checkBooks).
	slowEnded atomic.Bool

	attempted, opened, failed atomic.Int64
	open, subscribed          atomic.Int64
	protocolErrors, closedBy  atomic.Int64
}

// NewSwarm prepares a swarm for p (with defaults filled) that subscribes
// to products.
func NewSwarm(p Profile, products []string) (*Swarm, error) {
	u, err := url.Parse(p.Target)
	if err != nil {
		return nil, fmt.Errorf("bench: target: %w", err)
	}
	if len(products) == 0 {
		return nil, ErrNoProducts
	}
	poller, err := netpoll.New(netpoll.Config{MaxEvents: 1024})
	if err != nil {
		return nil, err
	}
	s := &Swarm{
		cfg: p, url: p.Target, loopback: isLoopback(u.Hostname()), products: products,
		index: make(map[string]int32, len(products)), poller: poller, stop: make(chan struct{}),
		connectErrs: map[string]int64{}, closes: map[string]int64{}, samples: map[string][]string{},
	}
	for i, id := range products {
		s.index[id] = int32(i)
	}
	s.trackBooks = p.Upstream.Enabled && slices.ContainsFunc(p.Channels, isLevel2)
	s.pick = newPicker(p, len(products))
	s.readers = make([]*reader, p.Readers)
	for i := range s.readers {
		s.readers[i] = newReader(s)
		s.wg.Add(1)
		go func(r *reader) {
			defer s.wg.Done()
			r.run(s.stop)
		}(s.readers[i])
	}
	s.wg.Add(1)
	go s.slowLoop()
	return s, nil
}

// productIndex maps a product id to its index, -1 if not one of ours.
func (s *Swarm) productIndex(id []byte) int {
	if i, ok := s.index[string(id)]; ok { // no allocation for a map lookup
		return int(i)
	}
	return -1
}

// Open opens n more connections at the profile's rate, at most
// ConnectConcurrency handshakes at once, and returns when each has connected
// or failed, or ctx is done. Failures are counted, not retried.
func (s *Swarm) Open(ctx context.Context, n int) {
	s.mu.Lock()
	first := s.next
	s.next += n
	s.mu.Unlock()
	lim := rate.NewLimiter(rate.Limit(s.cfg.ConnectRate), max(1, int(s.cfg.ConnectRate/100)))
	var next atomic.Int64
	next.Store(int64(first))
	var wg sync.WaitGroup
	for range min(s.cfg.ConnectConcurrency, n) {
		wg.Add(1)
		go func() { // Open's own dialers; it waits for them
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= first+n || lim.Wait(ctx) != nil {
					return
				}
				s.dial(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// dial opens, subscribes and registers connection number i.
func (s *Swarm) dial(ctx context.Context, i int) {
	s.attempted.Add(1)
	group := groupNormal
	if s.cfg.Mode == ModeSlow && isSlow(i, s.cfg.Slow.Share) {
		group = groupSlow
	}
	if s.cfg.Transport == TransportSSE {
		s.dialSSE(ctx, i, group)
		return
	}
	d := ws.Dialer{Timeout: s.cfg.ConnectTimeout, NetDial: s.netDial(i, group)}
	start := time.Now()
	nc, br, _, err := d.Dial(ctx, s.url)
	if err != nil {
		s.connectFailed(err)
		return
	}
	elapsed := time.Since(start)
	s.start(nc, i, group, elapsed, func(c *conn) []byte {
		if br != nil {
			if n := br.Buffered(); n > 0 {
				data, _ := br.Peek(n)
				c.in.Append(data)
			}
			ws.PutReader(br)
		}
		return s.subscribeFrame(c.products)
	})
}

// start makes nc, dialled for subscriber i of group, a polled conn, lets
// setup prepare it and say the subscription to send (a subscribe frame, an
// event-stream request), sends it and registers the conn. A failure closes
// nc and counts it.
func (s *Swarm) start(nc net.Conn, i, group int, elapsed time.Duration, setup func(*conn) []byte) {
	fd, err := netpoll.FD(nc.(syscall.Conn))
	if err != nil {
		nc.Close()
		s.connectFailed(err)
		return
	}
	rc, _ := nc.(syscall.Conn).SyscallConn()
	c := newConn(s, nc, rc, fd, group, i, s.pick.pick(i))
	if group == groupSlow {
		c.budget.Store(s.slowBudget())
	}
	sub := setup(c)
	nc.SetWriteDeadline(time.Now().Add(s.cfg.ConnectTimeout))
	c.subSentAt = time.Now().UnixNano()
	_, err = nc.Write(sub)
	nc.SetWriteDeadline(time.Time{})
	if err != nil {
		nc.Close()
		s.connectFailed(err)
		return
	}
	s.registerConn(c, elapsed)
}

// registerConn counts c as open and hands it to its reader.
func (s *Swarm) registerConn(c *conn, elapsed time.Duration) {
	fd := c.fd
	s.mu.Lock()
	s.conns = append(s.conns, c)
	record(&s.connectHist, elapsed.Nanoseconds())
	s.mu.Unlock()
	s.opened.Add(1)
	s.open.Add(1)
	buffered := len(c.in.Bytes()) > 0 // c belongs to its reader once registered
	if err := s.poller.Add(fd, netpoll.EventRead, c.onPoll); err != nil {
		c.close(closeProtocol, "poller: "+err.Error())
		return
	}
	if buffered { // bytes the handshake read past the response: no readiness will come for them
		c.r.schedule(c)
	}
}

// netDial dials from 127.0.0.2-127.0.0.254 in turn when the target is on
// loopback (each source address has its own ephemeral ports), and sets a
// slow subscriber's receive buffer before connecting so the window it
// advertises is small from the start.
func (s *Swarm) netDial(i, group int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		if s.loopback && !s.cfg.NoSourceSpread {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%253))}
		}
		size := s.cfg.RecvBufferBytes
		if group == groupSlow && s.cfg.Slow.RecvBufferBytes > 0 {
			size = s.cfg.Slow.RecvBufferBytes
		}
		if size > 0 {
			nd.Control = func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, size)
				})
				return errors.Join(err, serr)
			}
		}
		return nd.DialContext(ctx, network, addr)
	}
}

// subscribeFrame encodes the subscribe message for products as a client frame.
func (s *Swarm) subscribeFrame(products []int32) []byte {
	ids := make([]string, len(products))
	for i, p := range products {
		ids[i] = s.products[p]
	}
	msg, _ := json.Marshal(struct {
		Type       string   `json:"type"`
		ProductIDs []string `json:"product_ids"`
		Channels   []string `json:"channels"`
	}{"subscribe", ids, s.cfg.Channels})
	return clientFrame(ws.OpText, msg)
}

// connectFailed counts a failed connection attempt by its kind.
func (s *Swarm) connectFailed(err error) {
	s.failed.Add(1)
	kind := "other: " + err.Error()
	var se ws.StatusError
	switch {
	case errors.As(err, &se):
		kind = fmt.Sprintf("handshake: HTTP %d", int(se))
	case errors.Is(err, unix.ECONNREFUSED):
		kind = "refused"
	case errors.Is(err, unix.EADDRNOTAVAIL):
		kind = "no source port"
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		kind = "out of file descriptors"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		kind = "timeout"
	case errors.Is(err, context.Canceled):
		kind = "cancelled"
	}
	s.mu.Lock()
	s.connectErrs[kind]++
	s.mu.Unlock()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// noteClose counts a connection that ended before the run did: closed by
// the server (with or without a close frame) or by us on a protocol error.
func (s *Swarm) noteClose(why int, detail string) {
	if why == closeProtocol {
		s.protocolErrors.Add(1)
	} else {
		s.closedBy.Add(1)
	}
	s.mu.Lock()
	s.closes[detail]++
	s.mu.Unlock()
}

// noteProtocolError counts a message that is an error or unreadable, and
// keeps a few examples.
func (s *Swarm) noteProtocolError(kind string, payload []byte) {
	s.protocolErrors.Add(1)
	s.sample(kind, payload)
}

// noteGap keeps an example of a message that followed a sequence gap.
func (s *Swarm) noteGap(payload []byte) { s.sample("sequence gap", payload) }

func (s *Swarm) sample(kind string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples[kind]) < maxSamples {
		s.samples[kind] = append(s.samples[kind], string(payload[:min(len(payload), 300)]))
	}
}

// park holds a slow subscriber whose read budget is spent until slowLoop
// gives it a new one.
func (s *Swarm) park(c *conn) {
	s.slowMu.Lock()
	s.parked = append(s.parked, c)
	s.slowMu.Unlock()
}

func (s *Swarm) slowBudget() int64 {
	return max(1, int64(float64(s.cfg.Slow.ReadBytesPerSecond)*slowTick.Seconds()))
}

// slowLoop refills parked slow subscribers' budgets and re-arms them every
// slowTick. The Swarm owns it: NewSwarm starts it, Close stops it.
func (s *Swarm) slowLoop() {
	defer s.wg.Done()
	t := time.NewTicker(slowTick)
	defer t.Stop()
	var batch []*conn
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.slowMu.Lock()
		batch, s.parked = s.parked, batch[:0]
		s.slowMu.Unlock()
		for i, c := range batch {
			c.budget.Store(s.slowBudget())
			if !c.closed.Load() {
				c.rearm()
			}
			batch[i] = nil
		}
	}
}

// cut ends the current measurement window and starts the next.
func (s *Swarm) cut() [numGroups]*tally {
	var out [numGroups]*tally
	for g := range out {
		out[g] = newTally(len(s.products))
	}
	for _, r := range s.readers {
		ts := r.cut()
		for g := range out {
			out[g].add(ts[g])
		}
	}
	return out
}

// openSendWindow starts counting upstream messages sent after from.
func (s *Swarm) openSendWindow(from time.Time) {
	for _, r := range s.readers {
		r.mu.Lock()
		r.bySend = [numGroups]int64{}
		r.mu.Unlock()
	}
	s.sendTo.Store(0)
	s.sendFrom.Store(from.UnixMicro())
}

// closeSendWindow stops counting messages sent after to; those sent before
// are still counted as they arrive.
func (s *Swarm) closeSendWindow(to time.Time) { s.sendTo.Store(to.UnixMicro()) }

// inSendWindow reports whether a message stamped t (ns, from a µs "time")
// was sent in the window.
func (s *Swarm) inSendWindow(t int64) bool {
	from := s.sendFrom.Load()
	if from == 0 {
		return false
	}
	us := t / 1000
	to := s.sendTo.Load()
	return us > from && (to == 0 || us <= to)
}

// sentInWindow returns, per group, the upstream messages counted so far.
func (s *Swarm) sentInWindow() [numGroups]int64 {
	var out [numGroups]int64
	for _, r := range s.readers {
		r.mu.Lock()
		for g := range out {
			out[g] += r.bySend[g]
		}
		r.mu.Unlock()
	}
	return out
}

// Live is the swarm's state for the progress line.
type Live struct {
	Open, Subscribed, Opened, Failed int64
	Errors                           int64 // protocol errors and server closes
	Msgs, Bytes                      int64 // since the previous Sample
	P50, P99                         float64
}

// Sample returns the live state and the messages since the last Sample.
func (s *Swarm) Sample() Live {
	l := Live{
		Open: s.open.Load(), Subscribed: s.subscribed.Load(), Opened: s.opened.Load(),
		Failed: s.failed.Load(), Errors: s.protocolErrors.Load() + s.closedBy.Load(),
	}
	var h *hdrhistogram.Histogram
	for _, r := range s.readers {
		ls := r.sample()
		l.Msgs += ls.msgs
		l.Bytes += ls.bytes
		mergeHist(&h, ls.lat)
	}
	lat := summarize(h)
	l.P50, l.P99 = lat.P50, lat.P99
	return l
}

// Connections summarizes connection outcomes.
type Connections struct {
	Requested       int                 `json:"requested"`
	Attempted       int64               `json:"attempted"`
	Opened          int64               `json:"opened"`
	Failed          int64               `json:"failed"`
	OpenAtEnd       int64               `json:"open_at_end"`
	SubscribedAtEnd int64               `json:"subscribed_at_end"`
	ConnectErrors   map[string]int64    `json:"connect_errors"`
	Closed          map[string]int64    `json:"closed"` // ended before the run did, by reason
	ProtocolErrors  int64               `json:"protocol_errors"`
	Samples         map[string][]string `json:"error_samples,omitempty"`
	Connect         Latency             `json:"connect_ms"`
	Subscribe       Latency             `json:"subscribe_ms"`
	SourceAddrs     int                 `json:"source_addresses"`
}

// Connections reports connection outcomes so far.
func (s *Swarm) Connections() Connections {
	var sub *hdrhistogram.Histogram
	for _, r := range s.readers {
		r.mu.Lock()
		mergeHist(&sub, r.subscribeHist)
		r.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := Connections{
		Requested: s.next, Attempted: s.attempted.Load(), Opened: s.opened.Load(), Failed: s.failed.Load(),
		OpenAtEnd: s.open.Load(), SubscribedAtEnd: s.subscribed.Load(),
		ConnectErrors: cloneMap(s.connectErrs), Closed: cloneMap(s.closes),
		ProtocolErrors: s.protocolErrors.Load(), Connect: summarize(s.connectHist), Subscribe: summarize(sub),
		Samples: map[string][]string{}, SourceAddrs: 1,
	}
	for k, v := range s.samples {
		c.Samples[k] = append([]string(nil), v...)
	}
	if s.loopback && !s.cfg.NoSourceSpread {
		c.SourceAddrs = min(s.next, 253)
	}
	return c
}

// requested is how many connections Open was asked for so far.
func (s *Swarm) requested() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// subscribers counts, per product, the open connections of the groups
// subscribed to it.
func (s *Swarm) subscribers(groups ...int) []int64 {
	out := make([]int64, len(s.products))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if !c.closed.Load() && slices.Contains(groups, c.group) {
			for _, p := range c.products {
				out[p]++
			}
		}
	}
	return out
}

// openIn counts the open connections of the groups.
func (s *Swarm) openIn(groups ...int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, c := range s.conns {
		if !c.closed.Load() && slices.Contains(groups, c.group) {
			n++
		}
	}
	return n
}

func cloneMap(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Close stops the readers and the slow ticker, then closes every
// connection and the poller. Safe to call more than once.
func (s *Swarm) Close() {
	s.closed.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.mu.Lock()
		conns := s.conns
		s.conns = nil
		s.mu.Unlock()
		for _, c := range conns {
			c.close(closeLocal, "")
		}
		s.poller.Close()
	})
}

// isSlow spreads a share of the connections evenly over the indices.
func isSlow(i int, share float64) bool {
	return math.Floor(float64(i+1)*share) > math.Floor(float64(i)*share)
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FileLimit returns the process's open-file limit (RLIMIT_NOFILE, soft).
func FileLimit() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > math.MaxInt32 {
		return 1 << 20
	}
	return int(rl.Cur)
}
