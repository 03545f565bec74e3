// The benchmark data set: small files, a large file, a 1,000-entry folder, a mixed tree and the slow-get file.
package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Dataset describes the public tree MakeDataset creates.
type Dataset struct {
	SmallSize   int64 `json:"small_size"`
	SmallFiles  int   `json:"small_files"`
	LargeSize   int64 `json:"large_size"`
	ListEntries int   `json:"list_entries"`
	MixedDirs   int   `json:"mixed_dirs"`
	MixedFiles  int   `json:"mixed_files"`
	// SlowSize is the size of slow/<size>.bin, the file slow-get's
	// clients read slowly (0: none). It is made apart from the rest, so
	// that a cached data set made before it gains only this file.
	SlowSize int64 `json:"slow_size,omitempty"`
}

// DefaultDataset is the standard suite's data set.
var DefaultDataset = Dataset{
	SmallSize:   4096,
	SmallFiles:  DefaultLayout.SmallFiles,
	LargeSize:   1 << 30,
	ListEntries: 1000,
	MixedDirs:   DefaultLayout.MixedDirs,
	MixedFiles:  DefaultLayout.MixedFiles,
	SlowSize:    100 << 20,
}

// datasetStamp records in the tree what it was made with, so a second call
// with the same description does nothing.
const datasetStamp = ".ftpbench-dataset.json"

// datasetTime is every file's modification time, so listings are stable.
var datasetTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Layout returns the scenario layout of a tree made from d. The large file
// is always large/<size>.bin, e.g. large/1GiB.bin, and the slow-get file
// slow/<size>.bin, e.g. slow/100MiB.bin.
func (d Dataset) Layout() Layout {
	slow := ""
	if d.SlowSize > 0 {
		slow = "slow/" + largeName(d.SlowSize)
	}
	return Layout{
		SmallDir:   "small",
		SmallFiles: d.SmallFiles,
		LargeFile:  "large/" + largeName(d.LargeSize),
		ListDir:    "list",
		MixedDir:   "mixed",
		MixedDirs:  d.MixedDirs,
		MixedFiles: d.MixedFiles,
		SlowFile:   slow,
	}
}

func largeName(size int64) string {
	switch {
	case size >= 1<<30 && size%(1<<30) == 0:
		return fmt.Sprintf("%dGiB.bin", size>>30)
	case size >= 1<<20 && size%(1<<20) == 0:
		return fmt.Sprintf("%dMiB.bin", size>>20)
	}
	return fmt.Sprintf("%dB.bin", size)
}

// MakeDataset creates the tree described by d in dir (which it creates),
// unless dir already holds exactly that tree.
//
//	small/0000.bin …   SmallFiles files of SmallSize random bytes
//	large/1GiB.bin     LargeSize random bytes
//	list/e0000 …       ListEntries small files
//	mixed/d00/f00.bin  MixedDirs folders of MixedFiles files sized by MixedSize
//	slow/100MiB.bin    SlowSize random bytes (see makeSlowFile)
func MakeDataset(dir string, d Dataset) error {
	if err := makeMain(dir, d); err != nil {
		return err
	}
	if d.SlowSize > 0 {
		return makeSlowFile(dir, d.SlowSize)
	}
	return nil
}

// makeMain makes everything but the slow file, unless the stamp says it
// is there. The stamp leaves SlowSize out, so that it matches those of
// data sets made before there was a slow file.
func makeMain(dir string, d Dataset) error {
	d.SlowSize = 0
	want, _ := json.Marshal(d)
	if got, err := os.ReadFile(filepath.Join(dir, datasetStamp)); err == nil && string(got) == string(want) {
		return nil
	}
	for _, sub := range []string{"small", "large", "list", "mixed"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fmt.Errorf("bench: data set: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("bench: data set: %w", err)
		}
	}
	for i := range d.SmallFiles {
		if err := writeFile(filepath.Join(dir, "small", fmt.Sprintf("%04d.bin", i)), d.SmallSize, uint64(i)); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, "large", largeName(d.LargeSize)), d.LargeSize, 1<<40); err != nil {
		return err
	}
	for i := range d.ListEntries {
		p := filepath.Join(dir, "list", fmt.Sprintf("e%04d", i))
		if err := os.WriteFile(p, make([]byte, i%512), 0o644); err != nil {
			return fmt.Errorf("bench: data set: %w", err)
		}
		os.Chtimes(p, datasetTime, datasetTime)
	}
	for dd := range d.MixedDirs {
		sub := filepath.Join(dir, "mixed", fmt.Sprintf("d%02d", dd))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("bench: data set: %w", err)
		}
		for f := range d.MixedFiles {
			if err := writeFile(filepath.Join(sub, mixedFile(f)), MixedSize(f), uint64(dd<<8|f)); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, datasetStamp), want, 0o644); err != nil {
		return fmt.Errorf("bench: data set: %w", err)
	}
	return nil
}

func writeFile(p string, size int64, seed uint64) error {
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("bench: data set: %w", err)
	}
	err = fillRandom(f, size, seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bench: data set: %w", err)
	}
	os.Chtimes(p, datasetTime, datasetTime)
	return nil
}

// makeSlowFile makes slow/<size>.bin unless it is there already: a regular
// file of size bytes with the data set's modification time, which only a
// complete write gets (it is written under a temporary name, then renamed).
// Other sizes' files in slow/ are removed.
func makeSlowFile(dir string, size int64) error {
	sub := filepath.Join(dir, "slow")
	name := largeName(size)
	p := filepath.Join(sub, name)
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == size && fi.ModTime().Equal(datasetTime) {
		return nil
	}
	if err := os.RemoveAll(sub); err != nil {
		return fmt.Errorf("bench: data set: %w", err)
	}
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return fmt.Errorf("bench: data set: %w", err)
	}
	tmp := filepath.Join(sub, "."+name+".tmp")
	if err := writeFile(tmp, size, 1<<41); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bench: data set: %w", err)
	}
	return nil
}
