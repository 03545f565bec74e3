// Tests of the state table and of events that arrive in the wrong state.
package protocol

import (
	"strings"
	"testing"
)

func TestStateTable(t *testing.T) {
	for st := state(0); st < numStates; st++ {
		info := stateTable[st]
		if info.name == "" {
			t.Errorf("state %d has no name", st)
		}
		if st != stClosing && !info.next.has(stClosing) {
			t.Errorf("%s cannot close", info.name)
		}
		if info.busy != (info.expects != 0) && st != stLoginDelay {
			t.Errorf("%s: busy %v but expects %b", info.name, info.busy, info.expects)
		}
		if info.xfer && !info.busy {
			t.Errorf("%s: transfer state that is not busy", info.name)
		}
		if info.busy && st != stCheckPass && st != stLoginDelay && st != stTLS && !info.loggedIn {
			t.Errorf("%s: busy after login but not logged in", info.name)
		}
	}
	if stateTable[stClosing].next != 0 {
		t.Error("closing has a way out")
	}
}

func TestIllegalTransitionIsRecorded(t *testing.T) {
	var s Session
	s.state = stAwaitUser
	s.setState(stXferring)
	if s.bug == nil || !strings.Contains(s.bug.Error(), "awaiting USER → transferring (server bug)") {
		t.Fatalf("bug = %v", s.bug)
	}
	if s.state != stXferring {
		t.Fatal("the move was not made")
	}
	s.bug = nil
	s.setState(numStates + 3)
	if s.bug == nil || !strings.Contains(s.bug.Error(), "invalid state") {
		t.Fatalf("bug = %v", s.bug)
	}
}

// TestUnexpectedEventsIgnored puts a session in every state and delivers
// every kind of event the state does not expect: nothing may change but
// the ignored count.
func TestUnexpectedEventsIgnored(t *testing.T) {
	events := map[evKind]Event{
		evLogin: EvLogin{OK: true}, evFile: EvFile{}, evStatList: EvStatList{},
		evPassive: EvPassive{}, evXferStart: EvTransferStart{}, evXferDone: EvTransferDone{},
	}
	for st := state(0); st < numStates; st++ {
		for kind, ev := range events {
			if stateTable[st].expects&kind != 0 {
				continue
			}
			cfg := testConfig()
			s := NewSession(&cfg, testConn, scriptStart)
			s.TakeOutput()
			s.state = st
			s.Event(ev, scriptStart)
			out := s.TakeOutput()
			if s.state != st || s.ignored != 1 || len(out.Reply) > 0 || len(out.Requests) > 0 || out.Close {
				t.Errorf("%T in %s: state %s, ignored %d, output %+v", ev, stateTable[st].name, stateTable[s.state].name, s.ignored, out)
			}
		}
	}
}
