package transport

import (
	"sync"

	"github.com/tickerfan/tickerfan/internal/gate"
)

// op is the work a pool worker does for a connection.
type op uint8

const (
	opRead     op = iota // read and handle what the client sent
	opFlush              // write queued frames
	opResync             // the protocol sends fresh state for conflated streams
	opFinalize           // close the socket once the close frame is out
)

type task struct {
	c  *Conn
	op op
}

// pool is a fixed set of worker goroutines taking tasks from one queue. The
// pollers never block: schedule only appends. The queue cannot grow without
// bound because each connection has at most one task of each op outstanding
// (guarded by flags on the Conn). Its mu is a leaf. The Server owns the pool:
// its gate starts the workers in New; close stops them in Shutdown.
type pool struct {
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []task
	head   int
	closed bool
	wg     sync.WaitGroup
	run    func(task)
}

func newPool(workers int, run func(task), g *gate.Gate) *pool {
	p := &pool{run: run}
	p.cond = sync.NewCond(&p.mu)
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		if !g.Go(p.work) {
			p.wg.Done()
		}
	}
	return p
}

// schedule queues t; it never blocks.
func (p *pool) schedule(t task) {
	p.mu.Lock()
	if !p.closed {
		p.queue = append(p.queue, t)
		p.cond.Signal()
	}
	p.mu.Unlock()
}

func (p *pool) next() (task, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.head == len(p.queue) {
		if p.closed {
			return task{}, false
		}
		p.cond.Wait()
	}
	t := p.queue[p.head]
	p.queue[p.head] = task{}
	p.head++
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
		if cap(p.queue) > 4096 {
			p.queue = nil // a storm's queue is not kept
		}
	} else if p.head > 1024 && p.head*2 > len(p.queue) {
		n := copy(p.queue, p.queue[p.head:])
		p.queue, p.head = p.queue[:n], 0
	}
	return t, true
}

func (p *pool) work() {
	defer p.wg.Done()
	for {
		t, ok := p.next()
		if !ok {
			return
		}
		p.run(t)
	}
}

// close stops the workers once the queued tasks are done and waits for them.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}
