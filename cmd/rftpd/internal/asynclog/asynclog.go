// Package asynclog writes log lines from a bounded queue on a goroutine of
// its own, so that a slow or stalled log destination (a full pipe to the
// journal, a blocked terminal) never stalls the caller: rftpd logs from its
// event loop. When the queue is full a line is dropped and counted, and the
// count is reported in a line of its own once lines get through again.
package asynclog

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Writer queues each Write (one log line, as slog's handlers write them)
// for a goroutine that writes it to the destination.
type Writer struct {
	dst     io.Writer
	q       chan []byte
	dropped atomic.Uint64
	report  func(dropped uint64) // nil: a line in dst

	once sync.Once
	stop chan struct{} // closed by Close
	done chan struct{} // closed when run has returned
}

// New starts a Writer for dst holding at most queue lines.
func New(dst io.Writer, queue int) *Writer {
	return NewReporting(dst, queue, nil)
}

// NewReporting is New for a destination whose lines have a format of
// their own (a transfer log): dropped lines are told to report, from the
// Writer's goroutine, instead of to dst.
func NewReporting(dst io.Writer, queue int, report func(dropped uint64)) *Writer {
	w := &Writer{dst: dst, q: make(chan []byte, queue), report: report, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Write queues a copy of p; it never blocks. A full queue drops p.
func (w *Writer) Write(p []byte) (int, error) {
	select {
	case w.q <- append([]byte(nil), p...):
	default:
		w.dropped.Add(1)
	}
	return len(p), nil
}

// Dropped is how many lines a full queue has dropped so far.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// coalesce is how long the writer lets lines gather after the first of a
// batch, and batchMax how many bytes a batch holds at most: a busy server
// wakes the writer and writes once per batch instead of once per line, and
// an idle one never wakes it.
const (
	coalesce = 2 * time.Millisecond
	batchMax = 64 << 10
)

func (w *Writer) run() {
	defer close(w.done)
	var reported uint64
	var batch []byte
	flush := func() {
		if d := w.dropped.Load(); d != reported && w.report != nil {
			w.report(d - reported) // queues a line of its own: it goes out with the next batch
			reported = d
		} else if d != reported {
			fmt.Fprintf(w.dst, "time=%s level=WARN msg=\"log lines dropped: the log destination was too slow\" dropped=%d\n",
				time.Now().UTC().Format(time.RFC3339Nano), d-reported)
			reported = d
		}
		if len(batch) > 0 {
			_, _ = w.dst.Write(batch)
		}
		if cap(batch) > batchMax {
			batch = nil // a long line's buffer is not kept
		}
		batch = batch[:0]
	}
	// gather appends queued lines to the batch until the queue is empty or
	// the batch full.
	gather := func() {
		for len(batch) < batchMax {
			select {
			case b := <-w.q:
				batch = append(batch, b...)
			default:
				return
			}
		}
	}
	for {
		select {
		case b := <-w.q:
			batch = append(batch, b...)
			select {
			case <-time.After(coalesce):
			case <-w.stop:
			}
			gather()
			flush()
		case <-w.stop:
			for {
				gather()
				if len(batch) == 0 {
					return
				}
				flush()
			}
		}
	}
}

// Close writes what is queued (waiting at most wait for the destination)
// and stops the Writer; lines written later are dropped once the queue is
// full again.
func (w *Writer) Close(wait time.Duration) {
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
	case <-time.After(wait):
	}
}
