// Filling the page cache with throwaway files before a run, so uploads are measured as on a busy file server.
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// MemInfo is what /proc/meminfo says about memory, in bytes.
type MemInfo struct {
	Total     int64 // MemTotal
	Free      int64 // MemFree: pages no one uses, taken first by a new file
	Available int64 // MemAvailable: free plus what reclaim can give back
	Cached    int64 // Cached: the page cache
	Dirty     int64 // Dirty: cached pages not yet written back
}

// ParseMemInfo reads the fields of MemInfo from the text of /proc/meminfo.
// MemTotal is required; a field the kernel does not report stays zero.
func ParseMemInfo(text string) (MemInfo, error) {
	var m MemInfo
	fields := map[string]*int64{
		"MemTotal": &m.Total, "MemFree": &m.Free, "MemAvailable": &m.Available,
		"Cached": &m.Cached, "Dirty": &m.Dirty,
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		p := fields[k]
		if !ok || p == nil {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 {
			return m, fmt.Errorf("bench: meminfo: %s: bad value %q", k, v)
		}
		if unit == "kB" {
			n *= 1024
		}
		*p = n
	}
	if m.Total <= 0 {
		return m, errors.New("bench: meminfo: no MemTotal")
	}
	return m, nil
}

// ReadMemInfo reads path, /proc/meminfo when empty.
func ReadMemInfo(path string) (MemInfo, error) {
	if path == "" {
		path = "/proc/meminfo"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return MemInfo{}, fmt.Errorf("bench: meminfo: %w", err)
	}
	return ParseMemInfo(string(b))
}

// sizeUnits are the suffixes ParseSize accepts, lower-cased: K, KiB and
// KIB are 1024, KB is 1000 (as util-linux reads them), and so on up to T.
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// ParseSize parses a byte count with an optional unit: "4096", "512MiB",
// "1.5GiB", "20G" (binary, like "20GiB"), "10GB" (decimal).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	v, err := strconv.ParseFloat(t[:i], 64)
	if !ok || err != nil || i == 0 {
		return 0, fmt.Errorf("bench: size %q: want a number of bytes with an optional unit (KiB, MiB, GiB, TiB; KB, MB, GB, TB)", s)
	}
	if b := v * unit; b < 1<<62 {
		return int64(b), nil
	}
	return 0, fmt.Errorf("bench: size %q: too large", s)
}

// AutoFillSize is what -fill-cache auto fills first on a machine with
// total bytes of memory: all of it less a 32nd (at least 256 MiB), which is
// still more than the free memory, since the kernel and the processes
// always hold more than that, so the cache ends full. (Where others free
// memory meanwhile, auto goes on up to all of it: FillOptions.Max.)
func AutoFillSize(total int64) int64 {
	return max(total-max(total/32, 256<<20), 0)
}

// ParseFillSize parses a -fill-cache value: "auto" (AutoFillSize of
// memTotal) or a size for ParseSize. "" and "0" are no fill (0).
func ParseFillSize(s string, memTotal int64) (int64, error) {
	switch strings.TrimSpace(s) {
	case "", "0":
		return 0, nil
	case "auto":
		if n := AutoFillSize(memTotal); n > 0 {
			return n, nil
		}
		return 0, fmt.Errorf("bench: fill cache: auto: memory size %d is too small", memTotal)
	}
	n, err := ParseSize(s)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, fmt.Errorf("bench: size %q: must be positive", s)
	}
	return n, nil
}

// DiskSpace is what statfs says about a folder's filesystem, in bytes.
type DiskSpace struct {
	Total, Avail int64 // Avail: what an unprivileged user may still write
	// InMemory marks tmpfs and ramfs, whose files are memory themselves.
	InMemory bool
}

// fillReserve is what a fill must leave free on its filesystem: 5 % of
// it and at least 1 GiB, for the uploads, their temporary files and
// everyone else.
func fillReserve(d DiskSpace) int64 {
	return max(d.Total/20, 1<<30)
}

// checkFill refuses a fill of size bytes into a folder on disk d on a
// machine with memory m: more than its memory (the files would only push
// each other out), into tmpfs (they would take the memory itself, and
// swap or the OOM killer would follow), or beyond the disk's reserve.
func checkFill(size int64, m MemInfo, d DiskSpace, dir string) error {
	switch {
	case size <= 0:
		return fmt.Errorf("bench: fill cache: size %d: must be positive", size)
	case size > m.Total:
		return fmt.Errorf("bench: fill cache: %s is more than this machine's memory (MemTotal %s); ask for at most that, or auto",
			FormatBytes(float64(size)), FormatBytes(float64(m.Total)))
	case d.InMemory:
		return fmt.Errorf("bench: fill cache: %s is on tmpfs or ramfs, where files take memory the kernel cannot reclaim; give a folder on a disk with -fill-dir", dir)
	case d.Avail-size < fillReserve(d):
		return fmt.Errorf("bench: fill cache: %s in %s would leave %s free of its filesystem's %s (%s must stay free: 5 %% and at least 1 GiB); ask for less or give another folder with -fill-dir",
			FormatBytes(float64(size)), dir, FormatBytes(float64(max(d.Avail-size, 0))), FormatBytes(float64(d.Total)), FormatBytes(float64(fillReserve(d))))
	}
	return nil
}

// FillOptions says what FillCache writes and where.
type FillOptions struct {
	Parent string // a folder ftpbench-fill-* is made in (default: the system's temporary folder)
	Size   int64  // bytes to write
	// Max, when over Size, lets the fill go on past Size in 256 MiB steps
	// while more memory than notFull allows stays free (other processes
	// may free some meanwhile), up to Max bytes in all: -fill-cache auto
	// sets it to MemTotal.
	Max int64
	// Progress, when set, receives the megabytes written about once a
	// second (Scenario "fill-cache").
	Progress func(Progress)

	memInfo  string                          // "/proc/meminfo" (tests: a file of their own)
	statfs   func(string) (DiskSpace, error) // diskSpace (tests: a disk of their own)
	fileSize int64                           // fillFileSize (tests: smaller)
	step     int64                           // fillStep (tests: smaller)
}

// fillFileSize bounds each throwaway file, fillBuf is the size of a
// write, and fillStep that of each step past FillOptions.Size.
const (
	fillFileSize = 1 << 30
	fillBuf      = 8 << 20
	fillStep     = 256 << 20
)

// CacheFill is a folder of throwaway files written to fill the page cache,
// kept until Remove.
type CacheFill struct {
	Dir    string        // the folder FillCache made; Remove deletes it
	Size   int64         // bytes written
	Asked  int64         // FillOptions.Size: Size is more when the fill went on while memory stayed free
	Files  int           // how many files
	Took   time.Duration // how long writing them took
	Before MemInfo       // memory before the first write
	After  MemInfo       // and after the last
}

// FillCache writes opt.Size bytes (up to opt.Max while memory stays free)
// of throwaway files into a new folder in opt.Parent, with 8 MiB writes
// into files of at most 1 GiB, and no fsync: the page cache ends full of
// clean pages and of dirty ones still being written back, as a busy file
// server's is. It refuses first (checkFill) a size over the machine's
// memory, a folder on tmpfs, or a disk the files would fill. On failure or
// cancellation it removes what it wrote.
func FillCache(ctx context.Context, opt FillOptions) (*CacheFill, error) {
	if opt.Parent == "" {
		opt.Parent = os.TempDir()
	}
	if opt.statfs == nil {
		opt.statfs = diskSpace
	}
	if opt.fileSize <= 0 {
		opt.fileSize = fillFileSize
	}
	if opt.step <= 0 {
		opt.step = fillStep
	}
	opt.Max = max(opt.Max, opt.Size)
	mem, err := ReadMemInfo(opt.memInfo)
	if err != nil {
		return nil, err
	}
	disk, err := opt.statfs(opt.Parent)
	if err != nil {
		return nil, fmt.Errorf("bench: fill cache: %w", err)
	}
	if err := checkFill(opt.Max, mem, disk, opt.Parent); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opt.Parent, "ftpbench-fill-")
	if err != nil {
		return nil, fmt.Errorf("bench: fill cache: %w", err)
	}
	c := &CacheFill{Dir: dir, Asked: opt.Size, Before: mem}
	if err := c.write(ctx, opt); err != nil {
		c.Remove()
		return nil, err
	}
	if c.After, err = ReadMemInfo(opt.memInfo); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

// write writes the files of c, reporting progress in MiB.
func (c *CacheFill) write(ctx context.Context, opt FillOptions) error {
	buf := make([]byte, min(opt.Max, fillBuf))
	rng := rand.New(rand.NewPCG(uint64(opt.Size), 0x66696c6c))
	for i := 0; i+8 <= len(buf); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			buf[i+k] = byte(v >> (8 * k))
		}
	}
	start := time.Now()
	last := start
	for target := opt.Size; c.Size < target; {
		f, err := os.Create(filepath.Join(c.Dir, fmt.Sprintf("fill-%04d.bin", c.Files)))
		if err != nil {
			return fmt.Errorf("bench: fill cache: %w", err)
		}
		c.Files++
		end := min(c.Size+opt.fileSize, target)
		for c.Size < end && err == nil {
			if err = ctx.Err(); err != nil {
				break
			}
			buf[0], buf[1] = byte(c.Size>>23), byte(c.Size>>31) // no two writes alike
			var k int
			k, err = f.Write(buf[:min(int64(len(buf)), end-c.Size)])
			c.Size += int64(k)
			if opt.Progress != nil && time.Since(last) >= time.Second {
				last = time.Now()
				opt.Progress(Progress{Scenario: "fill-cache", Phase: "writing MiB", Elapsed: last.Sub(start), Done: int(c.Size >> 20), Of: int(target >> 20)})
			}
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("bench: fill cache: %w", err)
		}
		if c.Size == target && target < opt.Max {
			m, err := ReadMemInfo(opt.memInfo)
			if err != nil {
				return err
			}
			if notFull(m) {
				target = min(target+opt.step, opt.Max)
			}
		}
	}
	c.Took = time.Since(start)
	return nil
}

// Remove deletes the folder and its files; their cached pages go with them.
func (c *CacheFill) Remove() error {
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("bench: fill cache: %w", err)
	}
	return nil
}

// notFull is how much memory may stay free after a fill that is still
// called full: a 20th of it, at least 512 MiB (the kernel keeps its
// watermarks free, some hundreds of MiB on a large machine).
func notFull(m MemInfo) bool {
	return m.Free > max(m.Total/20, 512<<20)
}

// Notes describe the fill for a result's notes: how much, where, memory
// before and after it, and, when end is given, at the end of the scenario.
func (c *CacheFill) Notes(end *MemInfo) []string {
	gib := func(v int64) string { return fmt.Sprintf("%.1f", float64(v)/(1<<30)) }
	arrow := func(name string, a, b int64) string { return fmt.Sprintf("%s %s → %s", name, gib(a), gib(b)) }
	b, a := c.Before, c.After
	more := ""
	if c.Size > c.Asked {
		more = fmt.Sprintf(" (%s more than the %s asked, while memory stayed free)", FormatBytes(float64(c.Size-c.Asked)), FormatBytes(float64(c.Asked)))
	}
	notes := []string{
		fmt.Sprintf("page cache filled first: %s of throwaway files%s written in %.0f s to %s, kept during the run (MemTotal %s)",
			FormatBytes(float64(c.Size)), more, c.Took.Seconds(), c.Dir, FormatBytes(float64(b.Total))),
		fmt.Sprintf("memory before → after the fill, GiB: %s, %s, %s, %s", arrow("MemAvailable", b.Available, a.Available),
			arrow("Cached", b.Cached, a.Cached), arrow("MemFree", b.Free, a.Free), arrow("Dirty", b.Dirty, a.Dirty)),
	}
	if notFull(a) {
		notes = append(notes, fmt.Sprintf("the page cache did not fill: %s stayed free (the fill was smaller than the free memory, or others freed some meanwhile)", FormatBytes(float64(a.Free))))
	}
	if end != nil {
		notes = append(notes, fmt.Sprintf("memory after this scenario and the removal of its upload source, GiB: MemAvailable %s, Cached %s, MemFree %s, Dirty %s",
			gib(end.Available), gib(end.Cached), gib(end.Free), gib(end.Dirty)))
	}
	return notes
}
