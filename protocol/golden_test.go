// TestGolden replays the transcripts in testdata/, action by action and as one batch.
package protocol

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("only %d transcripts in testdata", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			replay(t, name, string(b), false)
			replay(t, name+" (batch)", string(b), true)
		})
	}
}
