// Tests of how a server is started: in a session of its own, apart from ftpbench's.
package peers

import (
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// A started server leads a session of its own, so that where the kernel
// schedules by session (autogroup) it is not grouped with the load
// generator; Stop ends it.
func TestStartOwnSession(t *testing.T) {
	s, err := start("sleep", exec.Command("sleep", "60"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	sid, err := unix.Getsid(s.PID)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if sid != s.PID || sid == mine {
		t.Errorf("the server's session is %d (its PID %d, ftpbench's session %d)", sid, s.PID, mine)
	}
	if pgid, err := unix.Getpgid(s.PID); err != nil || pgid != s.PID {
		t.Errorf("the server's process group is %d (%v), want its PID %d", pgid, err, s.PID)
	}
	s.Stop()
	if err := unix.Kill(s.PID, 0); err == nil {
		t.Errorf("process %d still runs after Stop", s.PID)
	}
}
