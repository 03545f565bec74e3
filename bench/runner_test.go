// Tests of the runner's own measurements.
package bench

import (
	"os/exec"
	"testing"
	"time"
)

// ownCPU counts this process only: a child's CPU time, even once the child
// is reaped, is not the load generator's (under compare, the server under
// test is ftpbench's child).
func TestOwnCPUExcludesChildren(t *testing.T) {
	before, err := ownCPU()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	if err := child.Run(); err != nil {
		t.Skipf("no shell to burn CPU in: %v", err)
	}
	after, err := ownCPU()
	if err != nil {
		t.Fatal(err)
	}
	spent := child.ProcessState.UserTime() + child.ProcessState.SystemTime()
	if spent < 50*time.Millisecond {
		t.Skipf("the child spent only %v", spent)
	}
	if own := after - before; own > spent/2 {
		t.Fatalf("own CPU rose by %v while a child spent %v", own, spent)
	}
}
