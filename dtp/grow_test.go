package dtp

import (
	"bytes"
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// A download sends the file as long as it was when opened, the size its
// 150 reply announced, even when the file grows during the transfer: in
// TYPE I by sendfile, in TYPE A and over TLS by reads.
func TestDownloadOfGrowingFile(t *testing.T) {
	e, f := newTLSEnv(t, nil)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB, no line ends
	grow := func(name string) {
		t.Helper()
		g, err := os.OpenFile(filepath.Join(e.dir, name), os.O_WRONLY|os.O_APPEND, 0)
		mustOK(t, err)
		_, err = g.Write([]byte("appended after the open\n"))
		mustOK(t, err)
		mustOK(t, g.Close())
	}

	// TYPE I: the client reads nothing until the first sendfile call has
	// filled the socket (EvTransferStart), then the file grows.
	e.write("plain.bin", body)
	c := dialFrom(t, "127.0.0.1", e.pasv())
	e.do(protocolRetr("plain.bin"))
	st := expectStart(t, e)
	grow("plain.bin")
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	mustOK(t, err)
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustOK(t, done.Err)
	if !bytes.Equal(got, body) || st.Size != int64(len(body)) || done.Bytes != int64(len(body)) {
		t.Errorf("TYPE I: %d bytes received, size %d, done %d; want %d", len(got), st.Size, done.Bytes, len(body))
	}

	// Protected: the server waits in the data connection's handshake
	// until the client reads, and the file grows before that.
	for _, ascii := range []bool{false, true} {
		name := "tls.bin"
		if ascii {
			name = "tls.txt"
		}
		e.write(name, body)
		tc, _ := e.protectedStart(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: name, ASCII: ascii}, ccfg)
		st := expectStart(t, e)
		grow(name)
		got, err := io.ReadAll(tc)
		mustOK(t, err)
		tc.Close()
		done := expect[protocol.EvTransferDone](t, e.ev)
		mustOK(t, done.Err)
		if !bytes.Equal(got, body) || done.Bytes != int64(len(body)) {
			t.Errorf("TLS, ASCII %v: %d bytes received, done %d; want %d", ascii, len(got), done.Bytes, len(body))
		}
		if want := map[bool]int64{false: int64(len(body)), true: -1}[ascii]; st.Size != want {
			t.Errorf("TLS, ASCII %v: size announced %d, want %d", ascii, st.Size, want)
		}
	}
}
