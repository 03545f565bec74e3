// Proof of zero copy: the transfers run again under strace, which must see
// the file's bytes go through sendfile and splice.
package dtp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

const zeroCopySize = 8 << 20

// TestZeroCopy re-runs this test binary (TestZeroCopyChild) under
// `strace -f -e trace=sendfile,splice,pipe2` and sums the bytes each call
// reports: RETR must have moved the whole file with sendfile, STOR with
// splice (twice: socket → pipe → file) but for its first headMax bytes,
// which are read and written. A small STOR, which ends within those,
// makes no pipe: one pipe2 in all, the large STOR's. It is skipped where
// strace is missing or cannot trace.
func TestZeroCopy(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	out := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=sendfile,splice,pipe2", "-o", out,
		os.Args[0], "-test.run=^TestZeroCopyChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "RFTPD_ZEROCOPY_CHILD=1")
	res, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(res, []byte("ptrace")) || bytes.Contains(res, []byte("strace:")) {
			t.Skipf("strace cannot trace here: %s", res)
		}
		t.Fatalf("child: %v\n%s", err, res)
	}
	if !bytes.Contains(res, []byte("--- PASS: TestZeroCopyChild")) {
		t.Fatalf("child did not pass:\n%s", res)
	}
	trace, err := os.ReadFile(out)
	mustOK(t, err)
	sums := map[string]int64{}
	calls := map[string]int{}
	re := regexp.MustCompile(`(?m)\b(sendfile|splice|pipe2)\b.*\)\s+=\s+(\d+)$`)
	for _, m := range re.FindAllSubmatch(trace, -1) {
		n, _ := strconv.ParseInt(string(m[2]), 10, 64)
		sums[string(m[1])] += n
		calls[string(m[1])]++
	}
	t.Logf("sendfile: %d calls, %d bytes; splice: %d calls, %d bytes",
		calls["sendfile"], sums["sendfile"], calls["splice"], sums["splice"])
	if sums["sendfile"] < zeroCopySize {
		t.Errorf("sendfile moved %d bytes of a %d-byte RETR", sums["sendfile"], zeroCopySize)
	}
	if sums["splice"] < 2*(zeroCopySize-headMax) {
		t.Errorf("splice moved %d bytes of a %d-byte STOR (want socket→pipe and pipe→file)", sums["splice"], zeroCopySize)
	}
	if calls["pipe2"] != 1 {
		t.Errorf("%d pipes for a large and a small STOR, want 1", calls["pipe2"])
	}
}

// TestZeroCopyChild is TestZeroCopy's traced half; alone it does nothing.
func TestZeroCopyChild(t *testing.T) {
	if os.Getenv("RFTPD_ZEROCOPY_CHILD") != "1" {
		t.Skip("run by TestZeroCopy")
	}
	e := newEnv(t, nil)
	data := randomBytes(zeroCopySize, 8)
	e.write("f", data)
	got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
	mustOK(t, done.Err)
	if !bytes.Equal(got, data) {
		t.Fatal("RETR differs")
	}
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "g"}, data)
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("g"), data) {
		t.Fatal("STOR differs")
	}
	small := data[:4096]
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "h"}, small)
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("h"), small) {
		t.Fatal("small STOR differs")
	}
}
