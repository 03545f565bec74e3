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

// HoldPageReporting sets dir/min_free_ms to hold for as long as the run lasts,
// where dir has it and it is shorter. restore puts back the old value; note
// describes what was done for the report. Where dir lacks the setting (no
// free page reporting, or not this kind), it does nothing: restore is a no-op
// and note is "".
func HoldPageReporting(dir string, hold time.Duration) (restore func() error, note string, err error) {
	none := func() error { return nil }
	path := filepath.Join(dir, "min_free_ms")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return none, "", nil
	}
	if err != nil {
		return none, "", fmt.Errorf("bench: page reporting: %w", err)
	}
	old := strings.TrimSpace(string(b))
	was, err := strconv.ParseInt(old, 10, 64)
	if err != nil {
		return none, "", fmt.Errorf("bench: page reporting: %s: %q is not a number", path, old)
	}
	want := hold.Milliseconds()
	if was >= want {
		return none, fmt.Sprintf("Free page reporting to the host: a page is reported once free for %d ms (%s), longer than any step, so the pages a step frees and reuses stay in the guest.", was, path), nil
	}
	if err := os.WriteFile(path, []byte(strconv.FormatInt(want, 10)), 0o644); err != nil {
		return none, "", fmt.Errorf("bench: page reporting: %w", err)
	}
	restore = func() error {
		if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
			return fmt.Errorf("bench: page reporting: restore %s to %s: %w", path, old, err)
		}
		return nil
	}
	note = fmt.Sprintf("Free page reporting to the host: held back for the run (%s from %d to %d ms, restored after). "+
		"A page the guest reports goes back to the host, and the next touch of it faults there, time the guest charges to whichever task ran; "+
		"an upload that overwrites a large file frees and fills that many pages, so reporting as the machine had it decided which server's large-put cost most.",
		path, was, want)
	return restore, note, nil
}
