// End-to-end tests of privileges: run_as drops root once listening; an unprivileged rftpd with CAP_NET_BIND_SERVICE binds port 21.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jlaffaye/ftp"
)

// nobody is the unprivileged account of these tests: the user "nobody"
// and its primary group.
type nobodyAccount struct {
	uid, gid int
	group    string
}

func needRootAndNobody(t *testing.T) nobodyAccount {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody: %v", err)
	}
	var n nobodyAccount
	n.uid, _ = strconv.Atoi(u.Uid)
	n.gid, _ = strconv.Atoi(u.Gid)
	n.group = u.Gid
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		n.group = g.Name
	}
	return n
}

// publicDir makes a folder every user may enter (t.TempDir's are root's
// alone), removed at the end of the test.
func publicDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "rftpd-priv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// ownedDir makes dir/name owned by uid:gid, mode 0755.
func ownedDir(t *testing.T, dir, name string, uid, gid int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	return p
}

// threadStatus returns the lines of /proc/PID/task/TID/status of every
// thread of pid, as maps from field name to its value's words joined by
// one space.
func threadStatus(t *testing.T, pid int) []map[string]string {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v (%d)", pid, err, len(tasks))
	}
	var out []map[string]string
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				m[k] = strings.Join(strings.Fields(v), " ")
			}
		}
		out = append(out, m)
	}
	return out
}

// checkThreads fails the test unless every thread of pid runs as uid/gid
// (real, effective, saved and file system ids) with no supplementary
// group but gid and the capabilities given (hex words of /proc).
func checkThreads(t *testing.T, pid, uid, gid int, capPrm, capEff, capAmb string) {
	t.Helper()
	ids := func(n int) string { s := strconv.Itoa(n); return s + " " + s + " " + s + " " + s }
	threads := threadStatus(t, pid)
	for _, st := range threads {
		for k, want := range map[string]string{"Uid": ids(uid), "Gid": ids(gid), "CapPrm": capPrm, "CapEff": capEff, "CapAmb": capAmb} {
			if st[k] != want {
				t.Errorf("thread %s: %s %q, want %q", st["Pid"], k, st[k], want)
			}
		}
		if g := st["Groups"]; g != "" && g != strconv.Itoa(gid) {
			t.Errorf("thread %s: Groups %q, want none or %d", st["Pid"], g, gid)
		}
	}
	t.Logf("%d threads of %d: Uid %s, Gid %s, Groups %q, CapPrm %s, CapEff %s, CapAmb %s", len(threads), pid,
		threads[0]["Uid"], threads[0]["Gid"], threads[0]["Groups"], threads[0]["CapPrm"], threads[0]["CapEff"], threads[0]["CapAmb"])
}

// checkOwner fails the test unless path belongs to uid:gid.
func checkOwner(t *testing.T, path string, uid, gid int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s belongs to %d:%d, want %d:%d", path, st.Uid, st.Gid, uid, gid)
	}
}

// TestRunAsDropsRoot: started as root with run_as = "nobody", rftpd reads
// a certificate key and an accounts file only root may read, binds, then
// every thread runs as nobody with no capability: uploads belong to
// nobody, and a folder only root may write to refuses them.
func TestRunAsDropsRoot(t *testing.T) {
	n := needRootAndNobody(t)
	private := t.TempDir() // 0700, root's
	key := filepath.Join(private, "key.pem")
	if err := os.WriteFile(key, getFile(t, keyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	root := ownedDir(t, publicDir(t), "srv", n.uid, n.gid)
	locked := ownedDir(t, root, "locked", 0, 0) // root's: nobody may not write there
	accts := writeAccounts(t, []account{{name: "writer", pass: writerPass, root: root, perms: []string{"read", "write", "delete", "rename", "mkdir"}}})
	cfg := filepath.Join(private, "rftpd.toml")
	body := fmt.Sprintf("run_as = %q\nusers = %q\n[tls]\ncert = %q\nkey = %q\n", "nobody", accts, certFile, key)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startProc(t, "-config", cfg)
	p.waitLog(t, fmt.Sprintf("msg=\"dropped root privileges\" user=nobody uid=%d group=%s gid=%d", n.uid, n.group, n.gid))
	if strings.Contains(p.stderr.String(), "running as root") {
		t.Errorf("warned about running as root with run_as set:\n%s", p.stderr.String())
	}
	const zero = "0000000000000000"
	checkThreads(t, p.cmd.Process.Pid, n.uid, n.gid, zero, zero, zero)

	c := goftpDial(t, p.addr, "writer", writerPass, ftp.DialWithExplicitTLS(clientTLS(t)))
	data := randomBytes(7, 300<<10)
	if err := c.Stor("up.bin", bytes.NewReader(data)); err != nil {
		t.Fatalf("STOR up.bin: %v", err)
	}
	checkFile(t, filepath.Join(root, "up.bin"), data)
	checkOwner(t, filepath.Join(root, "up.bin"), n.uid, n.gid)
	if err := c.MakeDir("made"); err != nil {
		t.Fatalf("MKD made: %v", err)
	}
	checkOwner(t, filepath.Join(root, "made"), n.uid, n.gid)
	// Root could: nobody may not write to root's folder. (Under PROT P the
	// 150 comes before the file is created, so the refusal is a 451.)
	if err := c.MakeDir("locked/sub"); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("MKD in a folder of root's: %v, want 550", err)
	}
	if err := c.Stor("locked/x.bin", bytes.NewReader(data)); err == nil {
		t.Error("STOR into a folder of root's succeeded")
	}
	if names, err := readDirNames(locked); err != nil || len(names) != 0 {
		t.Errorf("root's folder holds %v (%v) after refused writes", names, err)
	}
	checkThreads(t, p.cmd.Process.Pid, n.uid, n.gid, zero, zero, zero)
}

// TestRunAsFailedDrop: a drop that fails (no CAP_SETUID, taken away with
// setpriv) ends rftpd with status 1 and one line, before it listens.
func TestRunAsFailedDrop(t *testing.T) {
	needRootAndNobody(t)
	setpriv := needTool(t, "setpriv", "util-linux")
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--bounding-set=-setuid", rftpdBin, "-listen", "127.0.0.1:0", "-anonymous", t.TempDir(), "-run-as", "nobody")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "rftpd: run_as: setuid") || !strings.Contains(last, "operation not permitted") {
		t.Errorf("last line %q, want rftpd: run_as: setuid ...: operation not permitted", last)
	}
	if strings.Contains(stdout.String(), "listening on") {
		t.Errorf("listened though the drop failed:\n%s", stdout.String())
	}
}

// freeLoopbackPort21 returns 127.0.0.N:21 that nothing listens on (nor on
// the wildcard address's port 21).
func freeLoopbackPort21(t *testing.T) string {
	t.Helper()
	start := os.Getpid() % 200
	for i := range 200 {
		a := fmt.Sprintf("127.0.0.%d:21", 2+(start+i)%200)
		if l, err := net.Listen("tcp4", a); err == nil {
			l.Close()
			return a
		}
	}
	t.Skip("no free 127.0.0.N:21")
	return ""
}

// TestCapNetBindService: run by nobody with CAP_NET_BIND_SERVICE as its
// only capability (ambient, as systemd's AmbientCapabilities= gives it),
// rftpd binds 127.0.0.N:21 and serves; run_as naming nobody changes
// nothing, naming root is refused; without the capability, binding fails.
func TestCapNetBindService(t *testing.T) {
	n := needRootAndNobody(t)
	setpriv := needTool(t, "setpriv", "util-linux")
	pub := publicDir(t)
	// The binary, the accounts file and the root must be reachable by nobody.
	bin := filepath.Join(pub, "rftpd")
	if err := os.WriteFile(bin, getFile(t, rftpdBin), 0o755); err != nil {
		t.Fatal(err)
	}
	root := ownedDir(t, pub, "srv", n.uid, n.gid)
	accts := filepath.Join(pub, "users.toml")
	if err := os.WriteFile(accts, getFile(t, writeAccounts(t, []account{{name: "writer", pass: writerPass, root: root, perms: []string{"read", "write"}}})), 0o644); err != nil {
		t.Fatal(err)
	}
	asNobody := []string{setpriv, "--reuid=" + strconv.Itoa(n.uid), "--regid=" + strconv.Itoa(n.gid), "--clear-groups"}
	withCap := append(asNobody[:len(asNobody):len(asNobody)], "--inh-caps=+net_bind_service", "--ambient-caps=+net_bind_service")

	// Without the capability: no port 21 (unless the system lets anyone
	// bind it).
	addr := freeLoopbackPort21(t)
	b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if start, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || start > 21 {
		res := runTool(t, pub, "", asNobody[0], append(asNobody[1:], bin, "-listen", addr, "-users", accts)...)
		if res.code != 1 || !strings.Contains(res.stderr, "permission denied") {
			t.Errorf("nobody without CAP_NET_BIND_SERVICE on %s: %s; want status 1, permission denied", addr, res)
		}
	}
	// run_as naming someone else than nobody: refused.
	res := runTool(t, pub, "", withCap[0], append(withCap[1:], bin, "-listen", addr, "-users", accts, "-run-as", "root")...)
	if res.code != 1 || !strings.Contains(res.stderr, "not as root") {
		t.Errorf("nobody with run_as root: %s; want status 1 and a refusal", res)
	}

	// setpriv executes rftpd: the process is rftpd's.
	p := startProcUnder(t, withCap, "-listen", addr, "-users", accts, "-run-as", "nobody")
	if p.addr != addr {
		t.Fatalf("listening on %s, want %s", p.addr, addr)
	}
	p.waitLog(t, "run_as names the user rftpd runs as: nothing to drop")
	const netBind = "0000000000000400" // bit 10, cap_net_bind_service
	checkThreads(t, p.cmd.Process.Pid, n.uid, n.gid, netBind, netBind, netBind)

	c := goftpDial(t, addr, "writer", writerPass)
	data := randomBytes(8, 64<<10)
	if err := c.Stor("up.bin", bytes.NewReader(data)); err != nil {
		t.Fatalf("STOR up.bin: %v", err)
	}
	checkFile(t, filepath.Join(root, "up.bin"), data)
	checkOwner(t, filepath.Join(root, "up.bin"), n.uid, n.gid)
	r, err := c.Retr("up.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	checkBytes(t, "RETR up.bin", got, data)
	if err != nil {
		t.Fatal(err)
	}
}
