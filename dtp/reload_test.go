// Tests of accounts replaced while sessions use them.
package dtp

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// After SetAccounts, a session logged in before keeps its root until it
// logs out, when the old accounts close; new logins get the new accounts.
func TestSetAccountsKeepsOpenSessions(t *testing.T) {
	e := newEnv(t, nil)
	old := e.srv.accounts()
	mustOK(t, os.WriteFile(filepath.Join(e.dir, "old.txt"), []byte("x"), 0o644))

	dir := t.TempDir()
	mustOK(t, os.WriteFile(filepath.Join(dir, "new.txt"), []byte("y"), 0o644))
	acc, err := LoadAccounts(writeAccounts(t, fmt.Sprintf("[[user]]\nname = \"v\"\npassword = %q\nroot = %q\n", testHash, dir)))
	mustOK(t, err)
	defer acc.Close()
	mustOK(t, e.srv.SetAccounts(acc))

	// the old session still works in its root
	e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/old.txt"})
	mustOK(t, expect[protocol.EvFile](t, e.ev).Err)
	if old.refs.Load() != 1 {
		t.Fatalf("old accounts held %d times, want 1 (the open session)", old.refs.Load())
	}

	// a new session: "u" is gone, "v" is there
	ev := newCollector()
	sess := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	defer e.srv.CloseSession(sess)
	e.srv.Do(sess, protocol.ReqLogin{User: "u", Pass: "secret"}, ev.post)
	if l := expect[protocol.EvLogin](t, ev); l.OK {
		t.Fatal("a removed account logged in")
	}
	e.srv.Do(sess, protocol.ReqLogin{User: "v", Pass: "secret"}, ev.post)
	if l := expect[protocol.EvLogin](t, ev); !l.OK {
		t.Fatal("the new account was refused")
	}
	e.srv.Do(sess, protocol.ReqFile{Op: protocol.OpStat, Path: "/new.txt"}, ev.post)
	mustOK(t, expect[protocol.EvFile](t, ev).Err)

	// the last session of the old accounts logs out: they close
	e.do(protocol.ReqLogout{})
	if n := old.refs.Load(); n != -1 {
		t.Fatalf("old accounts: refs %d after their last session ended, want -1 (closed)", n)
	}
	old.mu.RLock()
	closed := old.roots == nil
	old.mu.RUnlock()
	if !closed {
		t.Error("old accounts' roots are still open")
	}
	if acc.refs.Load() != 1 {
		t.Errorf("new accounts held %d times, want 1", acc.refs.Load())
	}
}
