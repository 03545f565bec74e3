// Tests of TYPE A sizes and restart offsets: every transfer offset resumes at the right stored byte.
package dtp

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// RFC 3659 §4 and §5.3: SIZE and REST count transfer bytes. For every
// offset n of the TYPE A stream of each file, resuming where asciiOffset
// says sends exactly the stream's bytes from n on, and asciiSize is the
// stream's length.
func TestASCIIOffsets(t *testing.T) {
	dir := t.TempDir()
	for i, stored := range []string{
		"",
		"\n",
		"a\nb\n",
		"a\r\nb\r\n",                // already CRLF: nothing added
		"a\rb\r\r\n\n\r",            // lone CRs, a CRLF, a bare LF after it
		"\n\n\nx",                   // leading bare LFs
		"line one\nline two\r\nend", // the mix of a file edited on two systems
	} {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, []byte(stored), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		stream, _ := toCRLF(nil, []byte(stored), false)
		size := int64(len(stored))
		if n, err := asciiSize(f, size); err != nil || n != int64(len(stream)) {
			t.Errorf("case %d: asciiSize = %d, %v; want %d", i, n, err, len(stream))
		}
		for n := int64(0); n <= int64(len(stream)); n++ {
			at, cr, err := asciiOffset(f, size, n)
			if err != nil {
				t.Fatalf("case %d: asciiOffset(%d): %v", i, n, err)
			}
			rest, _ := toCRLF(nil, []byte(stored[at:]), cr)
			if !bytes.Equal(rest, stream[n:]) {
				t.Errorf("case %d %q: REST %d resumes at %d (cr %v) sending %q, want %q", i, stored, n, at, cr, rest, stream[n:])
			}
		}
		if _, _, err := asciiOffset(f, size, int64(len(stream))+1); !errors.Is(err, protocol.ErrBadOffset) {
			t.Errorf("case %d: REST past the end: %v, want ErrBadOffset", i, err)
		}
		f.Close()
	}
}

// A file larger than ASCIIScanMax is not read for either.
func TestASCIIScanBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(ASCIIScanMax + 1); err != nil {
		t.Fatal(err)
	}
	if _, err := asciiSize(f, ASCIIScanMax+1); !errors.Is(err, protocol.ErrASCIIScan) {
		t.Errorf("asciiSize: %v, want ErrASCIIScan", err)
	}
	if _, _, err := asciiOffset(f, ASCIIScanMax+1, 5); !errors.Is(err, protocol.ErrASCIIScan) {
		t.Errorf("asciiOffset: %v, want ErrASCIIScan", err)
	}
}
