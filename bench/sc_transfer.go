// Transfer scenarios: small-get, small-put, large-get, large-put and list.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// putNames is how many remote names each small-put worker rotates through,
// so repeated runs overwrite rather than fill the server's disk.
const putNames = 8

func smallPath(cfg Config, i int) string {
	return cfg.Target.Join(fmt.Sprintf("%s/%04d.bin", cfg.Layout.SmallDir, i))
}

func runSmallGet(ctx context.Context, cfg Config) (*Result, error) {
	files := max(1, cfg.Layout.SmallFiles)
	r := runJob(ctx, cfg, job{
		name: "small-get", unit: "files", target: cfg.Target, session: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			i := (w.id*7919 + int(w.seq)) % files
			return w.conn.Retr(ctx, cfg.Mode, smallPath(cfg, i), w.sink)
		},
	})
	if r.Ops > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%s per file", FormatBytes(float64(r.Bytes)/float64(r.Ops))))
	}
	return r, nil
}

func runLargeGet(ctx context.Context, cfg Config) (*Result, error) {
	pop, err := holdBeside(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer pop.close()
	p := cfg.Target.Join(cfg.Layout.LargeFile)
	r := runJob(ctx, cfg, job{
		name: "large-get", unit: "files", target: cfg.Target, session: true, perStream: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			return w.conn.Retr(ctx, cfg.Mode, p, w.sink)
		},
	})
	sink := "spliced into /dev/null"
	if !cfg.Splice || cfg.Target.TLS != TLSOff {
		sink = "read with 1 MiB buffers"
	}
	r.Notes = append(r.Notes, "RETR "+p+", "+sink)
	pop.report(r, cfg.Hold)
	return r, nil
}

// MakeSource writes a file of size bytes of pseudo-random data in dir (the
// system's temporary folder when empty) for uploads; remove it when done.
func MakeSource(dir string, size int64) (string, error) {
	f, err := os.CreateTemp(dir, "ftpbench-src-*.bin")
	if err != nil {
		return "", fmt.Errorf("bench: upload source: %w", err)
	}
	if err := fillRandom(f, size, uint64(size)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("bench: upload source: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("bench: upload source: %w", err)
	}
	return f.Name(), nil
}

// fillRandom writes size bytes of incompressible data, a 1 MiB random block
// varied per chunk.
func fillRandom(f *os.File, size int64, seed uint64) error {
	const block = 1 << 20
	buf := make([]byte, min(size, block))
	rng := rand.New(rand.NewPCG(seed, 0x7263))
	for i := 0; i < len(buf); i += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && i+k < len(buf); k++ {
			buf[i+k] = byte(v >> (8 * k))
		}
	}
	for written := int64(0); written < size; {
		k := min(int64(len(buf)), size-written)
		buf[0] ^= byte(written >> 20) // no two chunks alike
		if _, err := f.Write(buf[:k]); err != nil {
			return err
		}
		written += k
	}
	return nil
}

// putJob runs STOR of size bytes from a source file in cfg.TempDir to names
// from name(w).
func putJob(ctx context.Context, cfg Config, scenario string, size int64, perStream bool, name func(w *worker) string) (*Result, error) {
	src, err := MakeSource(cfg.TempDir, size)
	if err != nil {
		return nil, err
	}
	defer os.Remove(src)
	r := runJob(ctx, cfg, job{
		name: scenario, unit: "files", target: cfg.PutTarget, session: true, perStream: perStream,
		prepare: func(w *worker) error {
			f, err := os.Open(src)
			w.file = f
			return err
		},
		op: func(ctx context.Context, w *worker) (int64, error) {
			return w.conn.Stor(ctx, cfg.Mode, name(w), w.file, size)
		},
	})
	r.Notes = append(r.Notes, fmt.Sprintf("%s per file sent with sendfile from %s", FormatBytes(float64(size)), filepath.Dir(src)))
	return r, nil
}

func runSmallPut(ctx context.Context, cfg Config) (*Result, error) {
	return putJob(ctx, cfg, "small-put", cfg.SmallSize, false, func(w *worker) string {
		return cfg.PutTarget.Join(fmt.Sprintf("ftpbench-small-%03d-%d.bin", w.id, w.seq%putNames))
	})
}

func runLargePut(ctx context.Context, cfg Config) (*Result, error) {
	return putJob(ctx, cfg, "large-put", cfg.LargeSize, true, func(w *worker) string {
		return cfg.PutTarget.Join(fmt.Sprintf("ftpbench-large-%03d.bin", w.id))
	})
}

// lineRange tracks the smallest and largest line count of a kind of listing.
type lineRange struct {
	mu       sync.Mutex
	min, max int
	n        int64
}

func (l *lineRange) add(v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 || v < l.min {
		l.min = v
	}
	if l.n == 0 || v > l.max {
		l.max = v
	}
	l.n++
}

func (l *lineRange) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.min == l.max {
		return fmt.Sprint(l.min)
	}
	return fmt.Sprintf("%d–%d", l.min, l.max)
}

func runList(ctx context.Context, cfg Config) (*Result, error) {
	p := cfg.Target.Join(cfg.Layout.ListDir)
	var list, mlsd lineRange
	var lists, mlsds atomic.Int64
	r := runJob(ctx, cfg, job{
		name: "list", unit: "listings", target: cfg.Target, session: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			n, lines, useMLSD, err := w.listing(ctx, cfg.Mode, p, w.seq%2 == 0)
			if err == nil {
				if useMLSD {
					mlsd.add(lines)
					mlsds.Add(1)
				} else {
					list.add(lines)
					lists.Add(1)
				}
			}
			return n, err
		},
	})
	if lists.Load() > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("LIST %s: %s lines, %d listings", p, list.String(), lists.Load()))
	}
	if mlsds.Load() > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("MLSD %s: %s lines, %d listings", p, mlsd.String(), mlsds.Load()))
	} else if r.Ops > 0 {
		r.Notes = append(r.Notes, "the server has no MLSD (500/502): LIST only")
	}
	return r, nil
}
