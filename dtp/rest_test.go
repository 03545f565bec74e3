// Tests of REST offsets that do not fit the file: refused before the data connection, nothing created or changed.
package dtp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// restRefused runs req over a passive endpoint no client connects to and
// checks that it ends with protocol.ErrBadOffset at once: no
// EvTransferStart, so the data connection was never waited for.
func (e *env) restRefused(req protocol.ReqTransfer) {
	e.t.Helper()
	e.pasv()
	e.do(req)
	done := expect[protocol.EvTransferDone](e.t, e.ev)
	mustErr(e.t, done.Err, protocol.ErrBadOffset)
	if done.Bytes != 0 {
		e.t.Fatalf("%+v moved %d bytes", req, done.Bytes)
	}
}

// RETR past the end of the file is refused; at the end it sends nothing.
func TestRestRetrPastEnd(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(10_000, 61)
	e.write("f.bin", data)
	// In TYPE A the offset counts the converted stream (RFC 3659 §5.3).
	stream, _ := toCRLF(nil, data, false)
	for _, off := range []int64{10_001, 1 << 40} {
		e.restRefused(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f.bin", Offset: off})
		e.restRefused(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f.bin", Offset: off - 10_001 + int64(len(stream)) + 1, ASCII: true})
	}
	got, st, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f.bin", Offset: 10_000})
	mustOK(t, done.Err)
	if len(got) != 0 || st.Size != 0 {
		t.Fatalf("REST at the end: %d bytes, size %d", len(got), st.Size)
	}
	// The session goes on with its next endpoint.
	got, _, done = e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f.bin", Offset: 9_999})
	mustOK(t, done.Err)
	if string(got) != string(data[9_999:]) {
		t.Fatalf("REST 9999: %q", got)
	}
}

// REST+STOR beyond the end of the file, or onto a file that does not
// exist, and REST+APPE anywhere but the end are refused, with atomic
// uploads on or off: nothing is created, truncated or extended.
func TestRestUploadPastEnd(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.AtomicUploads = atomic
		e := newEnv(t, &cfg)
		old := []byte("0123456789")
		e.write("f.bin", old)
		for _, req := range []protocol.ReqTransfer{
			{Kind: protocol.XferStor, Path: "f.bin", Offset: 11},
			{Kind: protocol.XferStor, Path: "f.bin", Offset: 1 << 40},
			{Kind: protocol.XferStor, Path: "f.bin", Offset: 11, ASCII: true},
			{Kind: protocol.XferStor, Path: "new.bin", Offset: 1},
			{Kind: protocol.XferAppe, Path: "f.bin", Offset: 11},
			{Kind: protocol.XferAppe, Path: "f.bin", Offset: 4},
			{Kind: protocol.XferAppe, Path: "new.bin", Offset: 1},
		} {
			e.restRefused(req)
			mustContent(t, e, "f.bin", old)
			if _, err := os.Stat(filepath.Join(e.dir, "new.bin")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("atomic %v, %+v: new.bin: %v", atomic, req, err)
			}
			noTempFiles(t, e.dir)
		}

		// What fits works: REST+STOR at the end continues the file,
		// REST+APPE at the end appends.
		_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f.bin", Offset: 10}, []byte("ab"))
		mustOK(t, done.Err)
		mustContent(t, e, "f.bin", []byte("0123456789ab"))
		_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "f.bin", Offset: 12}, []byte("cd"))
		mustOK(t, done.Err)
		mustContent(t, e, "f.bin", []byte("0123456789abcd"))
	}
}
