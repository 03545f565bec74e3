// TYPE A sizes and offsets: SIZE and REST count transfer bytes (RFC 3659 §4, §5), which in TYPE A differ from the stored ones.
package dtp

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/rftpd/rftpd/protocol"
)

// ASCIIScanMax is the largest file whose TYPE A size SIZE reports, and in
// which REST sets a TYPE A offset: both read the file from its start (each
// bare LF is sent as CRLF, one byte more), so their cost is bounded here.
// Larger files get protocol.ErrASCIIScan: TYPE I gives their size and
// restarts at any offset.
const ASCIIScanMax = 16 << 20

// asciiSize returns the TYPE A transfer size of f, a regular file of size
// bytes: what sendASCII sends of it.
func asciiSize(f *os.File, size int64) (int64, error) {
	if size > ASCIIScanMax {
		return 0, fmt.Errorf("dtp: TYPE A size of a file of %d bytes: %w", size, protocol.ErrASCIIScan)
	}
	n, _, _, err := scanASCII(f, size, -1)
	return n, err
}

// asciiOffset maps the TYPE A transfer offset want of f (size bytes) to
// the stored offset sending resumes at, and the state sendASCII resumes
// in: cr, as if a CR had just been sent (the stored byte before is a CR,
// or want falls between the CR sent for a bare LF and that LF).
func asciiOffset(f *os.File, size, want int64) (stored int64, cr bool, err error) {
	if want == 0 {
		return 0, false, nil
	}
	if size > ASCIIScanMax {
		return 0, false, fmt.Errorf("dtp: REST in TYPE A on a file of %d bytes: %w", size, protocol.ErrASCIIScan)
	}
	sent, at, cr, err := scanASCII(f, size, want)
	switch {
	case err != nil:
		return 0, false, err
	case at < 0 && sent < want:
		return 0, false, fmt.Errorf("dtp: REST %d beyond the %d bytes of the file in TYPE A: %w", want, sent, protocol.ErrBadOffset)
	case at < 0: // want is the end
		return size, cr, nil
	}
	return at, cr, nil
}

// scanASCII reads f from its start (size bytes) and counts the bytes
// sendASCII sends of it. With want >= 0 it stops where sending resumes at
// want: at is the stored offset, sent what goes before it (want, or one
// less when want falls inside the CRLF of a bare LF, which cr then says),
// and cr whether sendASCII resumes as after a CR. at is -1 when the file
// ends first (sent is then the whole count).
func scanASCII(f *os.File, size, want int64) (sent, at int64, cr bool, err error) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	var off int64
	prevCR := false
	for off < size {
		n, rerr := f.ReadAt((*buf)[:min(int64(len(*buf)), size-off)], off)
		b := (*buf)[:n]
		for i, c := range b {
			w := int64(1)
			if c == '\n' && !prevCR {
				w = 2 // sent as CRLF
			}
			if want >= 0 && sent+w > want {
				// This byte's output is not all before want.
				return sent, off + int64(i), prevCR || sent < want, nil
			}
			sent += w
			prevCR = c == '\r'
		}
		off += int64(n)
		if rerr == io.EOF || (rerr == nil && n == 0) {
			break
		}
		if rerr != nil {
			return 0, 0, false, storageErr(rerr)
		}
	}
	return sent, -1, prevCR, nil
}

// asciiStat is fi, a regular file's, with its TYPE A transfer size.
func asciiStat(id *identity, rel string, fi fs.FileInfo) (fs.FileInfo, error) {
	if fi.Size() > ASCIIScanMax {
		return nil, fmt.Errorf("dtp: TYPE A size of a file of %d bytes: %w", fi.Size(), protocol.ErrASCIIScan)
	}
	f, err := id.root.OpenFile(rel, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fi, err // replaced since: no size to count
	}
	n, err := asciiSize(f, fi.Size())
	if err != nil {
		return nil, err
	}
	return asciiInfo{fi, n}, nil
}

// asciiInfo is a file's information with its TYPE A size.
type asciiInfo struct {
	fs.FileInfo
	size int64
}

func (a asciiInfo) Size() int64 { return a.size }
