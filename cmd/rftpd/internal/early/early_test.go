// Tests that the stop and reload signals are caught from init on.
package early

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// A SIGTERM, SIGINT, SIGHUP or SIGUSR1 sent to the process before anything else ran
// arrive on the channels instead of ending it.
func TestCaughtFromInit(t *testing.T) {
	for _, c := range []struct {
		sig syscall.Signal
		ch  chan os.Signal
	}{{syscall.SIGTERM, Stop}, {syscall.SIGINT, Stop}, {syscall.SIGHUP, Reload}, {syscall.SIGUSR1, Reopen}} {
		if err := syscall.Kill(os.Getpid(), c.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-c.ch:
			if got != c.sig {
				t.Fatalf("sent %v, got %v", c.sig, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not arrive", c.sig)
		}
	}
}
