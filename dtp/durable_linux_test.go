// Proof of durable uploads on Linux: under strace, the uploaded file is fdatasync'ed before its rename and the folder fsync'ed after it.
package dtp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// TestDurableSyscalls re-runs this test binary (TestDurableSyscallsChild)
// under strace and reads the order of the calls: for an atomic STOR,
// fdatasync, then the rename of the temporary file, then fsync (of the
// folder); for APPE, fdatasync and no rename. It is skipped where strace
// is missing or cannot trace.
func TestDurableSyscalls(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace not installed")
	}
	out := filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "trace=fdatasync,fsync,rename,renameat,renameat2,write", "-e", "signal=none",
		"-o", out, os.Args[0], "-test.run=^TestDurableSyscallsChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "RFTPD_DURABLE_CHILD=1")
	res, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(res, []byte("ptrace")) || bytes.Contains(res, []byte("strace:")) {
			t.Skipf("strace cannot trace here: %s", res)
		}
		t.Fatalf("child: %v\n%s", err, res)
	}
	if !bytes.Contains(res, []byte("--- PASS: TestDurableSyscallsChild")) {
		t.Fatalf("child did not pass:\n%s", res)
	}
	trace, err := os.ReadFile(out)
	mustOK(t, err)
	// The child writes markers to stderr (fd 2) around each upload.
	section := func(name string) []byte {
		start := bytes.Index(trace, []byte("write(2, \"begin "+name))
		end := bytes.Index(trace, []byte("write(2, \"end "+name))
		if start < 0 || end < start {
			t.Fatalf("markers of %s are missing from the trace:\n%s", name, trace)
		}
		return trace[start:end]
	}
	order := func(b []byte, res ...string) []int {
		var at []int
		for _, r := range res {
			loc := regexp.MustCompile(r).FindIndex(b)
			if loc == nil {
				at = append(at, -1)
			} else {
				at = append(at, loc[0])
			}
		}
		return at
	}
	stor := section("STOR")
	at := order(stor, `fdatasync\(\d+\)\s+=\s+0`, `rename\w*\(.*\.rftpd-upload\.[0-9a-f]{8}\.[0-9a-f]{12}".*"g"`, `\bfsync\(\d+\)\s+=\s+0`)
	if at[0] < 0 || at[1] < at[0] || at[2] < at[1] {
		t.Errorf("STOR: fdatasync at %d, rename at %d, fsync at %d; want them in that order:\n%s", at[0], at[1], at[2], stor)
	}
	appe := section("APPE")
	if at := order(appe, `fdatasync\(\d+\)\s+=\s+0`, `rename`); at[0] < 0 || at[1] >= 0 {
		t.Errorf("APPE: fdatasync at %d, rename at %d; want a sync and no rename:\n%s", at[0], at[1], appe)
	}
}

// TestDurableSyscallsChild is TestDurableSyscalls's traced half; alone it
// does nothing.
func TestDurableSyscallsChild(t *testing.T) {
	if os.Getenv("RFTPD_DURABLE_CHILD") != "1" {
		t.Skip("run by TestDurableSyscalls")
	}
	e := newEnv(t, nil)
	e.write("g", []byte("old"))
	data := randomBytes(100_000, 65)
	os.Stderr.WriteString("begin STOR\n")
	_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "g"}, data)
	os.Stderr.WriteString("end STOR\n")
	mustOK(t, done.Err)
	os.Stderr.WriteString("begin APPE\n")
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "g"}, data)
	os.Stderr.WriteString("end APPE\n")
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("g"), append(bytes.Clone(data), data...)) {
		t.Fatal("g differs")
	}
}
