// MODE Z: data connections that carry a zlib stream (RFC 1950), compressed with pooled writers and read with pooled readers.
package dtp

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// deflaters pools zlib writers by level (1-9): each holds its window and
// tables (0.3 to 1 MB), so a transfer takes one and gives it back, and
// steady MODE Z traffic allocates none.
var deflaters [10]sync.Pool

// inflaters pools zlib readers.
var inflaters sync.Pool

// newDeflater returns a zlib writer at level (clamped to 1-9) writing to w.
func newDeflater(w io.Writer, level int) *zlib.Writer {
	level = min(max(level, 1), 9)
	if zw, ok := deflaters[level].Get().(*zlib.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, err := zlib.NewWriterLevel(w, level)
	if err != nil {
		panic("dtp: zlib level " + err.Error()) // level is in range
	}
	return zw
}

// freeDeflater gives zw, made at level, back to its pool.
func freeDeflater(zw *zlib.Writer, level int) {
	zw.Reset(io.Discard) // drops the reference to the connection
	deflaters[min(max(level, 1), 9)].Put(zw)
}

// newInflater returns a zlib reader of r; it reads the stream's header
// first, so it waits for the client's first bytes.
func newInflater(r io.Reader) (io.ReadCloser, error) {
	if zr, ok := inflaters.Get().(io.ReadCloser); ok {
		if err := zr.(zlib.Resetter).Reset(r, nil); err != nil {
			inflaters.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return zlib.NewReader(r)
}

// freeInflater gives zr back to its pool.
func freeInflater(zr io.ReadCloser) {
	_ = zr.Close()
	inflaters.Put(zr)
}

// deflated wraps a download's writer in MODE Z's compression when level
// is set (ReqTransfer.Deflate). finish writes the end of the zlib stream
// (after the data, before the connection's own end) and gives the writer
// back; it must be called once whatever happened.
func deflated(out io.Writer, level int) (w io.Writer, finish func(ok bool) error) {
	if level == 0 {
		return out, func(bool) error { return nil }
	}
	zw := newDeflater(out, level)
	return zw, func(ok bool) error {
		var err error
		if ok {
			err = zw.Close() // the last block and the Adler-32 checksum
		}
		freeDeflater(zw, level)
		return err
	}
}
