//go:build !linux

// Control groups exist only on Linux: elsewhere TrackCPU fails and CPUTime reads the process table.
package bench

import (
	"errors"
	"time"
)

type cpuGroup struct{}

func newCPUGroup(string, int) (*cpuGroup, error) {
	return nil, errors.New("bench: control groups: not supported on this system")
}

func (*cpuGroup) kind() string                  { return "" }
func (*cpuGroup) schedKind() (string, error)    { return "", nil }
func (*cpuGroup) add([]int) error               { return nil }
func (*cpuGroup) usage() (time.Duration, error) { return 0, nil }
func (*cpuGroup) remove() error                 { return nil }
