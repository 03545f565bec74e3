// The mixed scenario: a mirror-like mix of CWD, MLSD, SIZE, MDTM and RETR of mixed sizes.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
)

// mixedOp is one kind of operation of the mixed scenario.
type mixedOp int

const (
	mixCWD mixedOp = iota
	mixMLSD
	mixSIZE
	mixMDTM
	mixRETR
	mixKinds
)

var mixNames = [mixKinds]string{"CWD", "MLSD (or LIST)", "SIZE", "MDTM", "RETR"}

// mixWeights are per-mille shares of each operation: a mirror walks into a
// folder, lists it, checks sizes and dates, and fetches what changed.
var mixWeights = [mixKinds]int{mixCWD: 100, mixMLSD: 100, mixSIZE: 250, mixMDTM: 200, mixRETR: 350}

// pickMixed draws an operation by mixWeights.
func pickMixed(rng *rand.Rand) mixedOp {
	total := 0
	for _, w := range mixWeights {
		total += w
	}
	v := rng.IntN(total)
	for k, w := range mixWeights {
		if v < w {
			return mixedOp(k)
		}
		v -= w
	}
	return mixRETR
}

// MixedSize is the size of file f of a mixed folder: six in ten are 1 KiB,
// three 64 KiB and one 1 MiB.
func MixedSize(f int) int64 {
	switch r := f % 10; {
	case r < 6:
		return 1 << 10
	case r < 9:
		return 64 << 10
	default:
		return 1 << 20
	}
}

func mixedDir(l Layout, d int) string { return fmt.Sprintf("%s/d%02d", l.MixedDir, d) }
func mixedFile(f int) string          { return fmt.Sprintf("f%02d.bin", f) }

func runMixed(ctx context.Context, cfg Config) (*Result, error) {
	l := cfg.Layout
	dirs, files := max(1, l.MixedDirs), max(1, l.MixedFiles)
	var counts [mixKinds]atomic.Int64
	r := runJob(ctx, cfg, job{
		name: "mixed", unit: "ops", target: cfg.Target, session: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			op := pickMixed(w.rng)
			if w.dir < 0 {
				op = mixCWD // a new session starts by entering a folder
			}
			var n int64
			var err error
			f := mixedFile(w.rng.IntN(files))
			switch op {
			case mixCWD:
				d := w.rng.IntN(dirs)
				if _, err = w.conn.Expect("CWD "+cfg.Target.Join(mixedDir(l, d)), 250); err == nil {
					w.dir = d
				}
			case mixMLSD:
				n, _, _, err = w.listing(ctx, cfg.Mode, "", true)
			case mixSIZE:
				_, err = w.conn.Expect("SIZE "+f, 213)
			case mixMDTM:
				_, err = w.conn.Expect("MDTM "+f, 213)
			case mixRETR:
				n, err = w.conn.Retr(ctx, cfg.Mode, f, w.sink)
			}
			if err != nil {
				w.dir = -1
				return n, err
			}
			counts[op].Add(1)
			return n, nil
		},
	})
	var parts []string
	for k := range mixKinds {
		parts = append(parts, fmt.Sprintf("%s %d", mixNames[k], counts[k].Load()))
	}
	r.Notes = append(r.Notes, strings.Join(parts, ", "))
	return r, nil
}
