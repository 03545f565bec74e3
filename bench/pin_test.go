// Tests of placements: parsing, the CPUs a plan picks, and its description.
package bench

import (
	"errors"
	"testing"
)

func TestParsePlacement(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Placement
		ok   bool
	}{
		{"same", PinSame, true},
		{"split", PinSplit, true},
		{"off", PinOff, true},
		{"", "", false},
		{"Same", "", false},
		{"0", "", false},
	} {
		got, err := ParsePlacement(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("%q: %q, %v", c.in, got, err)
		}
		if err != nil && err.Error() != `bench: placement "`+c.in+`": want same, split, off` {
			t.Errorf("%q: error %q", c.in, err)
		}
	}
}

func TestPlanFor(t *testing.T) {
	for _, c := range []struct {
		p       Placement
		allowed []int
		want    PinPlan
		err     error
		text    string
	}{
		{PinSame, []int{0, 1}, PinPlan{PinSame, 0, 0}, nil, "same: server and client on CPU 0"},
		{PinSplit, []int{0, 1}, PinPlan{PinSplit, 0, 1}, nil, "split: server on CPU 0, client on CPU 1"},
		{PinSplit, []int{2, 5, 7}, PinPlan{PinSplit, 2, 5}, nil, "split: server on CPU 2, client on CPU 5"},
		{PinSame, []int{3}, PinPlan{PinSame, 3, 3}, nil, "same: server and client on CPU 3"},
		{PinSplit, []int{0}, PinPlan{Placement: PinOff}, ErrOneCPU, "off: unpinned"},
		{PinOff, []int{0, 1}, PinPlan{Placement: PinOff}, nil, "off: unpinned"},
		{PinOff, nil, PinPlan{Placement: PinOff}, nil, "off: unpinned"},
	} {
		got, err := PlanFor(c.p, c.allowed)
		if got != c.want || !errors.Is(err, c.err) || got.String() != c.text {
			t.Errorf("%s on %v: %+v %q, %v", c.p, c.allowed, got, got.String(), err)
		}
		if got.Active() != (c.want.Placement != PinOff) {
			t.Errorf("%s on %v: active %v", c.p, c.allowed, got.Active())
		}
	}
	if _, err := PlanFor("elsewhere", []int{0}); err == nil {
		t.Error("an unknown placement was planned")
	}
}

// An inactive plan pins nothing and undoes nothing.
func TestPinOff(t *testing.T) {
	p, err := Pin("/nonexistent", -1, PinPlan{Placement: PinOff})
	if err != nil || p.Undo() != nil {
		t.Fatalf("%+v, %v", p, err)
	}
}
