// The benchmark data set: small files, a large file, a 1,000-entry folder and a mixed tree.
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
}

// DefaultDataset is the standard suite's data set.
var DefaultDataset = Dataset{
	SmallSize:   4096,
	SmallFiles:  DefaultLayout.SmallFiles,
	LargeSize:   1 << 30,
	ListEntries: 1000,
	MixedDirs:   DefaultLayout.MixedDirs,
	MixedFiles:  DefaultLayout.MixedFiles,
}

// datasetStamp records in the tree what it was made with, so a second call
// with the same description does nothing.
const datasetStamp = ".ftpbench-dataset.json"

// datasetTime is every file's modification time, so listings are stable.
var datasetTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Layout returns the scenario layout of a tree made from d. The large file
// is always large/<size>.bin, e.g. large/1GiB.bin.
func (d Dataset) Layout() Layout {
	return Layout{
		SmallDir:   "small",
		SmallFiles: d.SmallFiles,
		LargeFile:  "large/" + largeName(d.LargeSize),
		ListDir:    "list",
		MixedDir:   "mixed",
		MixedDirs:  d.MixedDirs,
		MixedFiles: d.MixedFiles,
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
func MakeDataset(dir string, d Dataset) error {
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
