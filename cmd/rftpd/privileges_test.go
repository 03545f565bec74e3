// Tests of run_as parsing and of what it means for a process not started as root.
package main

import (
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// nobodyIDs returns the uid and primary gid of "nobody" and the name of
// that group, skipping the test where the system has no such user.
func nobodyIDs(t *testing.T) (uid, gid int, group string) {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	group = u.Gid
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		group = g.Name
	}
	return uid, gid, group
}

func TestParseRunAs(t *testing.T) {
	uid, gid, group := nobodyIDs(t)
	root, err := user.LookupGroupId("0")
	if err != nil {
		t.Skipf("no group 0: %v", err)
	}
	for _, c := range []struct {
		spec     string
		uid, gid int
		group    string
		err      string // "": no error
	}{
		{spec: "nobody", uid: uid, gid: gid, group: group},
		{spec: strconv.Itoa(uid), uid: uid, gid: gid, group: group},
		{spec: "nobody:" + root.Name, uid: uid, gid: 0, group: root.Name},
		{spec: "nobody:0", uid: uid, gid: 0, group: root.Name},
		{spec: "nobody:" + group, uid: uid, gid: gid, group: group},
		{spec: "", err: `run_as "": want USER or USER:GROUP`},
		{spec: ":x", err: `want USER or USER:GROUP`},
		{spec: "nobody:", err: `want USER or USER:GROUP`},
		{spec: "no-such-user-rftpd", err: `run_as "no-such-user-rftpd": no user "no-such-user-rftpd"`},
		{spec: "nobody:no-such-group-rftpd", err: `no group "no-such-group-rftpd"`},
	} {
		a, err := parseRunAs(c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseRunAs(%q) = %+v, %v; want an error with %q", c.spec, a, err, c.err)
			}
			continue
		}
		if err != nil || a.uid != c.uid || a.gid != c.gid || a.group != c.group || a.user != "nobody" {
			t.Errorf("parseRunAs(%q) = %+v, %v; want user nobody uid %d, group %s gid %d", c.spec, a, err, c.uid, c.group, c.gid)
		}
	}
}

// TestPrivilegeDropPlan checks, as whoever runs the tests, what run_as
// leads to before anything is bound.
func TestPrivilegeDropPlan(t *testing.T) {
	var log strings.Builder
	logger := slog.New(slog.NewTextHandler(&log, nil))
	drop, err := privilegeDrop("", logger)
	if err != nil || (drop != nil) != (os.Geteuid() == 0) {
		t.Fatalf(`euid %d: privilegeDrop("") = %v, %v; want a warning to log only as root`, os.Geteuid(), drop != nil, err)
	}
	if log.Len() > 0 {
		t.Errorf("logged before the listeners are bound: %s", log.String())
	}
	if drop != nil {
		if err := drop(); err != nil {
			t.Fatal(err)
		}
	}
	if warned := strings.Contains(log.String(), "level=WARN msg=\"running as root"); warned != (os.Geteuid() == 0) {
		t.Errorf("euid %d: root warning logged: %v\n%s", os.Geteuid(), warned, log.String())
	}

	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := privilegeDrop("root", discard); err == nil {
		t.Error(`run_as "root" is accepted`)
	}
	me, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	uid, _, _ := nobodyIDs(t)
	switch os.Geteuid() {
	case 0:
		// Root: the drop is planned, not done here.
		if drop, err := privilegeDrop("nobody", discard); err != nil || drop == nil {
			t.Errorf(`as root, run_as "nobody" = %v, %v; want a drop`, drop != nil, err)
		}
	case uid:
		t.Skip("running as nobody")
	default:
		// Not root: only the current user is accepted, as a no-op.
		if drop, err := privilegeDrop(me.Username, discard); err != nil || drop != nil {
			t.Errorf("run_as naming the current user %s = %v, %v; want nothing to do", me.Username, drop != nil, err)
		}
		if _, err := privilegeDrop("nobody", discard); err == nil || !strings.Contains(err.Error(), "not as root") {
			t.Errorf(`not root, run_as "nobody": %v; want a refusal`, err)
		}
	}
}

// TestRunAsSetting: run_as in the file, -run-as on the command line
// (which wins), and both named by -h.
func TestRunAsSetting(t *testing.T) {
	cfg := writeFile(t, "c.toml", "run_as = \"nobody:nogroup\"\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", cfg}, "nobody:nogroup"},
		{[]string{"-config", cfg, "-run-as", "ftp"}, "ftp"},
		{[]string{"-run-as", "65534:65534"}, "65534:65534"},
		{nil, ""},
	} {
		s, err := parseArgs(c.args, io.Discard)
		if err != nil || s.RunAs != c.want {
			t.Errorf("%q: run_as %q, %v; want %q", c.args, s.RunAs, err, c.want)
		}
	}
	code, out, _ := runCLI(t, "", "-h")
	if code != 0 || !strings.Contains(out, "-run-as USER[:GROUP]") || !strings.Contains(out, " run_as") {
		t.Errorf("-h does not name -run-as and run_as:\n%s", out)
	}
}

// TestRunAsErrors: a run_as that cannot be used ends rftpd at start-up,
// before anything is bound, with one line and status 1.
func TestRunAsErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"no-such-user-rftpd", `rftpd: run_as "no-such-user-rftpd": no user "no-such-user-rftpd"`},
		{"nobody:no-such-group-rftpd", `no group "no-such-group-rftpd"`},
		{"root", `run_as "root"`},
		{"nobody:", "want USER or USER:GROUP"},
	} {
		code, _, stderr := runCLI(t, "", "-listen", "127.0.0.1:0", "-run-as", c.spec)
		if line := strings.TrimSpace(stderr); code != 1 || strings.Contains(line, "\n") || !strings.Contains(line, c.want) {
			t.Errorf("-run-as %s: exit %d, stderr %q; want 1 and one line with %q", c.spec, code, stderr, c.want)
		}
	}
}
