// Tests of the data set: made once, and a cached one extended with the slow-get file without being remade.
package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMakeDatasetAddsTheSlowFile(t *testing.T) {
	dir := t.TempDir()
	d := Dataset{SmallSize: 16, SmallFiles: 2, LargeSize: 1 << 20, ListEntries: 3, MixedDirs: 1, MixedFiles: 1}
	if err := MakeDataset(dir, d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "slow")); !os.IsNotExist(err) {
		t.Errorf("a data set without SlowSize has slow/: %v", err)
	}
	if d.Layout().SlowFile != "" {
		t.Errorf("layout names a slow file: %q", d.Layout().SlowFile)
	}
	small := filepath.Join(dir, "small", "0000.bin")
	before, err := os.Stat(small)
	if err != nil {
		t.Fatal(err)
	}

	// A data set cached before the slow file existed gains only that file.
	d.SlowSize = 2 << 20
	if err := MakeDataset(dir, d); err != nil {
		t.Fatal(err)
	}
	if d.Layout().SlowFile != "slow/2MiB.bin" {
		t.Errorf("layout: slow file %q", d.Layout().SlowFile)
	}
	slow := filepath.Join(dir, "slow", "2MiB.bin")
	fi, err := os.Stat(slow)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 2<<20 || !fi.ModTime().Equal(datasetTime) {
		t.Fatalf("slow file: %v, %v", fi, err)
	}
	if after, err := os.Stat(small); err != nil || !os.SameFile(before, after) {
		t.Error("adding the slow file remade the rest")
	}

	// Made once: a second call keeps the file.
	if err := MakeDataset(dir, d); err != nil {
		t.Fatal(err)
	}
	if again, err := os.Stat(slow); err != nil || !os.SameFile(fi, again) {
		t.Error("a second call rewrote the slow file")
	}

	// One cut short (no data set time) is made again; another size
	// replaces it.
	if err := os.Truncate(slow, 100); err != nil {
		t.Fatal(err)
	}
	if err := MakeDataset(dir, d); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(slow); err != nil || fi.Size() != 2<<20 {
		t.Errorf("a cut file was not made again: %v, %v", fi, err)
	}
	d.SlowSize = 1 << 20
	if err := MakeDataset(dir, d); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "slow"))
	if len(ents) != 1 || ents[0].Name() != "1MiB.bin" {
		t.Errorf("slow/ holds %v, want only 1MiB.bin", ents)
	}
}
