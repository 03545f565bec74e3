// Free page reporting: a virtual machine's guest may hand the pages it frees
// back to its host, and the first touch of such a page afterwards faults on
// the host. The guest charges that time to whichever task ran, and no sampler
// inside the guest sees it. An upload that overwrites a large file frees the
// old file's pages and fills as many new ones; whether the pages it reuses
// were reported meanwhile decided on this kind of machine which server's
// large-put cost most: with reporting as the machine had it (pages reported
// as soon as they are free), 1.0–1.4 GiB went to the host during one
// server's 20 s large-put and 60–140 MiB during another's, and the first
// server's CPU per GiB rose by half. Held back for the run, both fell to
// 0–20 MiB, and the figures became the servers' own.
package bench

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// PageReportingDir is where a guest kernel with free page reporting offers
// its settings; min_free_ms is how long a free page must stay free before it
// is reported.
const PageReportingDir = "/sys/module/page_reporting/parameters"

// PageReportingHold is how long HoldPageReporting asks a page to stay free
// before it is reported: longer than a step, so that the pages a step frees
// and fills again never go to the host in between (the guest measured here
// takes 300000 ms and refuses 600000).
const PageReportingHold = 5 * time.Minute

// ErrPageReportingBusy is HoldPageReporting's answer while another run holds
// the same setting: two runs at once would also measure each other.
var ErrPageReportingBusy = errors.New("another run holds the guest's free page reporting")

// PageReporting is what HoldPageReporting did with a guest's free page
// reporting. Release ends the hold.
type PageReporting struct {
	// Note says for the report how reporting was set for the run; "" where
	// the guest has no such setting.
	Note string
	// Warning is set where the setting exists but could not be held back:
	// the run goes on with reporting as the machine has it.
	Warning string

	path, old string   // what to put back, "" when nothing was changed
	lock      *os.File // the setting, locked for as long as the run lasts
}

// HoldPageReporting sets dir/min_free_ms to hold for as long as the run
// lasts, where dir has it and it is shorter, and locks it so that a second
// run cannot take the hold over and end it early (ErrPageReportingBusy).
// Where dir lacks the setting (no free page reporting, or not this kind), it
// does nothing. A setting it cannot read or write (not root, say) is not an
// error but a Warning: the run goes on and its report says so.
func HoldPageReporting(dir string, hold time.Duration) (*PageReporting, error) {
	path := filepath.Join(dir, "min_free_ms")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &PageReporting{}, nil
	}
	p := &PageReporting{}
	notHeld := func(why string) (*PageReporting, error) {
		p.Warning = fmt.Sprintf("free page reporting to the host could not be held back: %s", why)
		p.Note = "Free page reporting to the host: not held back (" + why + "). " +
			"A page the guest reports goes back to the host, and the next touch of it faults there, time the guest charges to whichever task ran; " +
			"upload rows may carry it."
		return p, nil
	}
	if err != nil {
		return notHeld(err.Error())
	}
	p.lock = f
	if busy, err := lockNB(f); busy {
		f.Close()
		return nil, fmt.Errorf("bench: %s: %w", path, ErrPageReportingBusy)
	} else if err != nil {
		return notHeld(fmt.Sprintf("lock %s: %v", path, err))
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return notHeld(err.Error())
	}
	old := strings.TrimSpace(string(b))
	was, err := strconv.ParseInt(old, 10, 64)
	if err != nil {
		return notHeld(fmt.Sprintf("%s: %q is not a number", path, old))
	}
	want := hold.Milliseconds()
	if was >= want {
		p.Note = fmt.Sprintf("Free page reporting to the host: a page is reported once free for %d ms (%s), longer than any step, so the pages a step frees and reuses stay in the guest.", was, path)
		return p, nil
	}
	if err := os.WriteFile(path, []byte(strconv.FormatInt(want, 10)), 0o644); err != nil {
		return notHeld(fmt.Sprintf("%v; a page is reported once free for %d ms", err, was))
	}
	p.path, p.old = path, old
	p.Note = fmt.Sprintf("Free page reporting to the host: held back for the run (%s from %d to %d ms, restored after). "+
		"A page the guest reports goes back to the host, and the next touch of it faults there, time the guest charges to whichever task ran; "+
		"an upload that overwrites a large file frees and fills that many pages, so reporting as the machine had it decided which server's large-put cost most.",
		path, was, want)
	return p, nil
}

// Release puts back the value HoldPageReporting replaced and drops the lock.
// It may be called more than once.
func (p *PageReporting) Release() error {
	var err error
	if p.path != "" {
		if werr := os.WriteFile(p.path, []byte(p.old), 0o644); werr != nil {
			err = fmt.Errorf("bench: page reporting: restore %s to %s: %w", p.path, p.old, werr)
		}
		p.path = ""
	}
	if p.lock != nil {
		p.lock.Close()
		p.lock = nil
	}
	return err
}
