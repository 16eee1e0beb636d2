package book

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Window sizes of the rolling statistics, in their bucket units.
const (
	minutesPerDay = 24 * 60 // 24 h window of one-minute buckets
	windowDays    = 30      // 30 d window of one-day buckets
)

// minuteBucket sums the trades of one minute of upstream time.
type minuteBucket struct {
	minute                  int64 // minutes since the Unix epoch
	open, high, low, volume decimal.Decimal
}

// dayBucket sums the volume of one UTC day of upstream time.
type dayBucket struct {
	day    int64 // days since the Unix epoch
	volume decimal.Decimal
}

// rolling computes a product's 24 h open, high, low and volume and its 30 d
// volume from its trades, as the Coinbase ticker reports them.
//
// Time is the trades' upstream time, never the wall clock: the window ends at
// the newest trade seen, so a replay yields the statistics it had live, and a
// product that stops trading keeps reporting its last window.
//
// Granularity: the 24 h window is the newest trade's minute and the 1439
// minutes before it, so a trade leaves it between 23h59m and 24h after it
// happened; open_24h is the first price of the oldest minute still inside. The
// 30 d volume counts the newest trade's UTC day and the 29 before it, so a
// trade leaves it between 29 and 30 days later. Only trades seen since the
// Market started count.
//
// Cost: volumes are running sums; high and low are raised by each trade and
// recomputed from the remaining minutes only when a minute holding the
// window's high or low expires, which happens at most once per minute bucket.
// A trade is therefore O(1) amortized. Memory grows with the number of
// distinct trading minutes, to at most 1440 buckets (about 100 KiB per
// product).
//
// Once an upstream reports its own statistics (set), they are used as they
// are, and local trades add nothing to them for the rest of the Market's life:
// mixing the upstream's window with ours would report numbers neither side
// computed. The upstream's next set replaces them.
type rolling struct {
	external bool
	reported model.Stats

	minutes ring[minuteBucket] // minutes holding trades, oldest first
	days    ring[dayBucket]    // days holding trades, oldest first

	high, low, volume24h, volume30d decimal.Decimal
}

// set replaces the statistics with the upstream's own, from now on.
func (r *rolling) set(s model.Stats) {
	*r = rolling{external: true, reported: s}
}

// add records a trade of size at price at upstream time t. A trade older than
// the newest one seen counts in the newest minute (the window never moves
// back), unless it is older than the whole window, when it is left out.
func (r *rolling) add(t time.Time, price, size decimal.Decimal) {
	if r.external {
		return
	}
	minute := floorDiv(t.Unix(), 60)
	if newest, ok := r.minutes.back(); ok && minute < newest.minute {
		if minute <= newest.minute-minutesPerDay {
			return
		}
		minute = newest.minute
	}
	r.expire(minute)
	r.addMinute(minute, price, size)
	r.addDay(floorDiv(minute, minutesPerDay), size)
}

// addMinute records a trade in the 24 h window, minute being the newest.
func (r *rolling) addMinute(minute int64, price, size decimal.Decimal) {
	first := r.minutes.len() == 0
	if first || cmpPrice(price, r.high) > 0 {
		r.high = price
	}
	if first || cmpPrice(price, r.low) < 0 {
		r.low = price
	}
	r.volume24h = r.volume24h.Add(size)
	last, ok := r.minutes.back()
	if !ok || last.minute != minute {
		r.minutes.push(minuteBucket{minute: minute, open: price, high: price, low: price, volume: size}, minutesPerDay)
		return
	}
	if cmpPrice(price, last.high) > 0 {
		last.high = price
	}
	if cmpPrice(price, last.low) < 0 {
		last.low = price
	}
	last.volume = last.volume.Add(size)
}

// addDay records a trade's size in the 30 d window, day being the newest.
func (r *rolling) addDay(day int64, size decimal.Decimal) {
	r.volume30d = r.volume30d.Add(size)
	if last, ok := r.days.back(); ok && last.day == day {
		last.volume = last.volume.Add(size)
		return
	}
	r.days.push(dayBucket{day: day, volume: size}, windowDays)
}

// expire drops the buckets that fall out of the windows ending at minute,
// and recomputes high and low when a dropped minute held either.
func (r *rolling) expire(minute int64) {
	stale := false
	for {
		b, ok := r.minutes.front()
		if !ok || b.minute > minute-minutesPerDay {
			break
		}
		r.volume24h = r.volume24h.Sub(b.volume)
		stale = stale || cmpPrice(b.high, r.high) == 0 || cmpPrice(b.low, r.low) == 0
		r.minutes.pop()
	}
	if stale {
		r.recomputeHighLow()
	}
	day := floorDiv(minute, minutesPerDay)
	for {
		b, ok := r.days.front()
		if !ok || b.day > day-windowDays {
			break
		}
		r.volume30d = r.volume30d.Sub(b.volume)
		r.days.pop()
	}
}

// recomputeHighLow scans the minutes left in the window.
func (r *rolling) recomputeHighLow() {
	r.high, r.low = decimal.Decimal{}, decimal.Decimal{}
	for i := range r.minutes.len() {
		b := r.minutes.at(i)
		if i == 0 || cmpPrice(b.high, r.high) > 0 {
			r.high = b.high
		}
		if i == 0 || cmpPrice(b.low, r.low) < 0 {
			r.low = b.low
		}
	}
}

// stats returns the current statistics: the upstream's when it reports them,
// else the window ending at the newest trade (zero before the first trade).
func (r *rolling) stats() model.Stats {
	if r.external {
		return r.reported
	}
	s := model.Stats{High24h: r.high, Low24h: r.low, Volume24h: r.volume24h, Volume30d: r.volume30d}
	if oldest, ok := r.minutes.front(); ok {
		s.Open24h = oldest.open
	}
	return s
}

// floorDiv divides rounding toward minus infinity, so times before 1970 fall
// into the right bucket too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// ring is a FIFO queue over a circular buffer that grows by doubling, up to
// the limit its user passes to push.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (q *ring[T]) len() int { return q.n }

// at returns the i-th element from the front.
func (q *ring[T]) at(i int) *T { return &q.buf[(q.head+i)%len(q.buf)] }

func (q *ring[T]) front() (*T, bool) {
	if q.n == 0 {
		return nil, false
	}
	return q.at(0), true
}

func (q *ring[T]) back() (*T, bool) {
	if q.n == 0 {
		return nil, false
	}
	return q.at(q.n - 1), true
}

// push appends v; the caller guarantees that the queue never holds more than
// limit elements.
func (q *ring[T]) push(v T, limit int) {
	if q.n == len(q.buf) {
		grown := make([]T, min(max(8, 2*len(q.buf)), limit))
		for i := range q.n {
			grown[i] = *q.at(i)
		}
		q.buf, q.head = grown, 0
	}
	*q.at(q.n) = v
	q.n++
}

func (q *ring[T]) pop() {
	var zero T
	*q.at(0) = zero
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}
