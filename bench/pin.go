// Placement: which CPUs the server and the client of a single-stream step are pinned to, and why.
package bench

import (
	"errors"
	"fmt"
	"strings"
)

// Placement says where the server and the client of a single-stream step
// (Step.Pin) and of the client matrix run.
//
// On loopback one stream's server CPU depends mostly on it. On a 2-vCPU
// VM, a 1 GiB RETR from the page cache cost the server about 120–170 ms
// of CPU when server and client ran on the same CPU, steady within
// ±10 %, and 540–860 ms when they ran on different CPUs: wake-ups across
// CPUs are costly in a VM, and on loopback the sender's softirq also does
// the receiver's TCP work. Left to the scheduler, each run lands on either
// at random, and rounds swung by ×1.3 to ×2.3.
type Placement string

// The placements.
const (
	PinSame  Placement = "same"  // server and client on one CPU: the steady one
	PinSplit Placement = "split" // the server on one CPU, the client on another
	PinOff   Placement = "off"   // wherever the scheduler puts them
)

// DefaultPlacement is what ftpbench suite and compare pin with unless told.
const DefaultPlacement = PinSame

// Placements lists the placements, for usage text.
var Placements = []Placement{PinSame, PinSplit, PinOff}

// ParsePlacement reads a -pin value.
func ParsePlacement(s string) (Placement, error) {
	for _, p := range Placements {
		if s == string(p) {
			return p, nil
		}
	}
	names := make([]string, len(Placements))
	for i, p := range Placements {
		names[i] = string(p)
	}
	return "", fmt.Errorf("bench: placement %q: want %s", s, strings.Join(names, ", "))
}

// String is the placement's name (flag.Value).
func (p *Placement) String() string { return string(*p) }

// Set parses a -pin value (flag.Value).
func (p *Placement) Set(s string) error {
	v, err := ParsePlacement(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// PinPlan is a placement with the CPUs it uses.
type PinPlan struct {
	Placement      Placement
	Server, Client int // CPU numbers; meaningless when off
}

// Active reports whether the plan pins anything.
func (p PinPlan) Active() bool { return p.Placement == PinSame || p.Placement == PinSplit }

// String describes the plan: "same: server and client on CPU 0",
// "split: server on CPU 0, client on CPU 1", "off: unpinned".
func (p PinPlan) String() string {
	switch p.Placement {
	case PinSame:
		return fmt.Sprintf("same: server and client on CPU %d", p.Server)
	case PinSplit:
		return fmt.Sprintf("split: server on CPU %d, client on CPU %d", p.Server, p.Client)
	}
	return "off: unpinned"
}

// ErrOneCPU is PlanFor's error for split on a machine (or an affinity)
// with a single CPU.
var ErrOneCPU = errors.New("bench: placement split needs two CPUs, and this process may run on one")

// PlanFor picks p's CPUs from allowed, the CPUs this process may run on
// in ascending order: the first for the server (and for the client when
// same), the second for the client when split. Off needs none.
func PlanFor(p Placement, allowed []int) (PinPlan, error) {
	switch p {
	case PinOff, "":
		return PinPlan{Placement: PinOff}, nil
	case PinSame:
		if len(allowed) == 0 {
			return PinPlan{Placement: PinOff}, errors.New("bench: placement: no CPU allowed")
		}
		return PinPlan{Placement: p, Server: allowed[0], Client: allowed[0]}, nil
	case PinSplit:
		if len(allowed) < 2 {
			return PinPlan{Placement: PinOff}, ErrOneCPU
		}
		return PinPlan{Placement: p, Server: allowed[0], Client: allowed[1]}, nil
	}
	_, err := ParsePlacement(string(p))
	return PinPlan{Placement: PinOff}, err
}

// Plan is PlanFor with the CPUs this process may run on.
func (p Placement) Plan() (PinPlan, error) {
	allowed, err := AllowedCPUs()
	if err != nil && p != PinOff {
		return PinPlan{Placement: PinOff}, err
	}
	return PlanFor(p, allowed)
}

// Pinned is a plan in force on a server's tree and this process: Undo
// gives both back the affinity they had.
type Pinned struct {
	Plan PinPlan
	undo []func() error
}

// Undo restores what Pin changed; the first error is returned, and the
// rest is restored anyway.
func (p *Pinned) Undo() error {
	if p == nil {
		return nil
	}
	var first error
	for i := len(p.undo) - 1; i >= 0; i-- {
		if err := p.undo[i](); err != nil && first == nil {
			first = err
		}
	}
	p.undo = nil
	return first
}

// Pin puts every thread of pid and its descendants on plan's server CPU
// and every thread of this process on its client CPU. Processes and
// threads the server starts later inherit the pinning. Nothing is done for
// an inactive plan. On an error nothing stays pinned.
func Pin(procRoot string, pid int, plan PinPlan) (*Pinned, error) {
	p := &Pinned{Plan: plan}
	if !plan.Active() {
		return p, nil
	}
	undo, err := PinTree(procRoot, pid, plan.Server)
	if err != nil {
		return nil, err
	}
	p.undo = append(p.undo, undo)
	undo, err = PinSelf(procRoot, plan.Client)
	if err != nil {
		p.Undo()
		return nil, err
	}
	p.undo = append(p.undo, undo)
	return p, nil
}

// placementShort is a placement's description (PinPlan.String) as a
// report names it: "server and client on CPU 0 (`-pin same`)".
func placementShort(desc string) string {
	mode, text, ok := strings.Cut(desc, ": ")
	if !ok {
		return desc
	}
	return fmt.Sprintf("%s (`-pin %s`)", text, mode)
}

// placementWhy is a report's sentence on a placement's description
// (PinPlan.String): where, how (in the words of pinned) and why it
// matters.
func placementWhy(desc, pinned string) string {
	why := "On loopback one stream's server CPU depends mostly on whether server and client share a CPU (see the introduction)"
	switch {
	case strings.HasPrefix(desc, string(PinSame)+":"):
		return fmt.Sprintf("Placement: %s: %s. %s; on one CPU it is steady.", placementShort(desc), pinned, why)
	case strings.HasPrefix(desc, string(PinSplit)+":"):
		return fmt.Sprintf("Placement: %s: %s. %s; split, it is higher and varies more.", placementShort(desc), pinned, why)
	}
	return fmt.Sprintf("Placement: %s: server and client run where the scheduler puts them. %s, so these figures carry that noise.", placementShort(desc), why)
}
