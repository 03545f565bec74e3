// The live progress line: one line on a terminal, rewritten about once a second.
package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressAfter is how long a phase runs before the line appears: short runs
// stay quiet.
const progressAfter = 2 * time.Second

// ProgressLine draws Progress snapshots on one terminal line.
type ProgressLine struct {
	mu    sync.Mutex
	w     io.Writer
	shown bool
}

// NewProgressLine returns a line drawing on f when f is a terminal, or nil
// (no progress) when it is not.
func NewProgressLine(f *os.File) *ProgressLine {
	if f == nil || !isTerminal(f.Fd()) {
		return nil
	}
	return &ProgressLine{w: f}
}

// Update draws p; it is the Config.Progress callback.
func (l *ProgressLine) Update(p Progress) {
	if p.Elapsed < progressAfter {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r\x1b[K%s", FormatProgress(p))
	l.shown = true
}

// Clear erases the line, so the next output starts clean.
func (l *ProgressLine) Clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// FormatProgress renders a snapshot as one short line.
func FormatProgress(p Progress) string {
	if p.Phase != "" {
		return fmt.Sprintf("%-10s %s %s/%s  %4.0fs  errors %s", p.Scenario, p.Phase, group(int64(p.Done)), group(int64(p.Of)), p.Elapsed.Seconds(), group(p.Errors))
	}
	s := fmt.Sprintf("%-10s %4.0fs/%.0fs  %s ops  %s/s", p.Scenario, p.Elapsed.Seconds(), p.Duration.Seconds(), group(p.Ops), FormatRate(float64(p.Ops)/max(p.Elapsed.Seconds(), 1e-9)))
	if p.Bytes > 0 {
		s += "  " + FormatBytes(float64(p.Bytes)/max(p.Elapsed.Seconds(), 1e-9)) + "/s"
	}
	return s + "  errors " + group(p.Errors)
}
