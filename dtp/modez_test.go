// Tests of MODE Z: downloads, uploads and listings carry zlib streams that inflate to the same bytes as MODE S.
package dtp

import (
	"bytes"
	"compress/zlib"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// inflate decompresses a zlib stream with the standard library (another
// implementation than the server's), failing the test on a bad stream.
func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a zlib stream: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("zlib stream: %v", err)
	}
	return out
}

// deflate compresses b with the standard library at level.
func deflate(t *testing.T, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	mustOK(t, err)
	_, err = zw.Write(b)
	mustOK(t, err)
	mustOK(t, zw.Close())
	return buf.Bytes()
}

func TestModeZDownloads(t *testing.T) {
	e := newEnv(t, nil)
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 50_000))
	random := randomBytes(3<<20, 41)
	e.write("text.txt", text)
	e.write("random.bin", random)
	for _, c := range []struct {
		name string
		req  protocol.ReqTransfer
		want []byte
	}{
		{"text, level 6", protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "text.txt", Deflate: 6}, text},
		{"random, level 1", protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "random.bin", Deflate: 1}, random},
		{"random, level 9, REST", protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "random.bin", Deflate: 9, Offset: 1_000_003}, random[1_000_003:]},
		{"TYPE A", protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "text.txt", Deflate: 6, ASCII: true}, bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n"))},
		{"empty rest", protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "text.txt", Deflate: 6, Offset: int64(len(text))}, nil},
	} {
		got, _, done := e.download(c.req)
		mustOK(t, done.Err)
		plain := inflate(t, got)
		if !bytes.Equal(plain, c.want) {
			t.Errorf("%s: inflates to %d bytes, want %d", c.name, len(plain), len(c.want))
		}
		if done.Bytes != int64(len(c.want)) {
			t.Errorf("%s: %d bytes counted, want the file's %d", c.name, done.Bytes, len(c.want))
		}
		if c.name == "text, level 6" && len(got)*20 > len(text) {
			t.Errorf("text compressed to %d of %d bytes", len(got), len(text))
		}
	}
	// a listing too
	got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/", Deflate: 6})
	mustOK(t, done.Err)
	if names := string(inflate(t, got)); names != "random.bin\r\ntext.txt\r\n" {
		t.Errorf("NLST under MODE Z: %q", names)
	}
}

func TestModeZUploads(t *testing.T) {
	e := newEnv(t, nil)
	data := []byte(strings.Repeat("line of an uploaded log file\n", 40_000))
	_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "up.log", Deflate: 6}, deflate(t, data, 6))
	mustOK(t, done.Err)
	if got := e.read("up.log"); !bytes.Equal(got, data) {
		t.Fatalf("MODE Z upload stored %d bytes, want %d", len(got), len(data))
	}
	// TYPE A: CRLF in the stream, LF on disk
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "a.txt", Deflate: 6, ASCII: true}, deflate(t, []byte("one\r\ntwo\r\n"), 9))
	mustOK(t, done.Err)
	if got := string(e.read("a.txt")); got != "one\ntwo\n" {
		t.Fatalf("TYPE A MODE Z upload stored %q", got)
	}

	// A corrupt stream, or one cut short, fails the upload, and the
	// file it would have replaced stays as it was.
	stream := deflate(t, randomBytes(1<<20, 5), 6)
	corrupt := bytes.Clone(stream)
	corrupt[len(corrupt)/2] ^= 0xff
	for name, bad := range map[string][]byte{
		"corrupt":   corrupt,
		"cut short": stream[:len(stream)/2],
		"no zlib":   []byte("this is not a zlib stream at all\n"),
	} {
		_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "up.log", Deflate: 6}, bad)
		mustErr(t, done.Err, protocol.ErrDataConn)
		if got := e.read("up.log"); !bytes.Equal(got, data) {
			t.Errorf("%s stream: the old file changed (%d bytes)", name, len(got))
		}
	}
}

// ABOR stops a MODE Z download that the client stopped reading; the
// pooled compressor it held serves the next download whole.
func TestModeZAbort(t *testing.T) {
	e := newEnv(t, nil)
	e.write("big", randomBytes(32<<20, 8))
	e.write("small.txt", []byte(strings.Repeat("after the abort\n", 1000)))
	addr := e.pasv()
	c := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big", Deflate: 1})
	st := expect[protocol.EvTransferStart](t, e.ev)
	if _, err := io.ReadFull(c, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for st.Progress() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	e.do(protocol.ReqAbort{})
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrAborted)
	c.Close()
	got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "small.txt", Deflate: 1})
	mustOK(t, done.Err)
	if plain := string(inflate(t, got)); plain != strings.Repeat("after the abort\n", 1000) {
		t.Fatalf("the next MODE Z download inflates to %d bytes", len(plain))
	}
}
