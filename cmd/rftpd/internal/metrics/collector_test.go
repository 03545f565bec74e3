// Tests of the collector: fixed snapshots in, exact exposition out, and a lint of every metric.
package metrics

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
	"github.com/rftpd/rftpd/reactor"
)

type fakeReactor struct {
	st        reactor.Stats
	phases    [protocol.NumPhases][2]int
	phaseErr  error
	accepting bool
}

func (f *fakeReactor) Stats() reactor.Stats { return f.st }
func (f *fakeReactor) Phases(context.Context) ([protocol.NumPhases][2]int, error) {
	return f.phases, f.phaseErr
}
func (f *fakeReactor) Accepting() bool { return f.accepting }

type fakeDTP struct{ st dtp.Stats }

func (f *fakeDTP) Stats() dtp.Stats { return f.st }

func fakes() (*fakeReactor, *fakeDTP) {
	r := &fakeReactor{accepting: true}
	r.st.Commands = make([]reactor.CommandStats, protocol.VerbOther+1)
	for i, v := range protocol.Verbs() {
		r.st.Commands[i].Verb = v
	}
	noop := &r.st.Commands[slices.Index(protocol.Verbs(), "NOOP")]
	noop.Replies[0] = 5
	noop.Time = reactor.Histogram{Bounds: []float64{0.001, 1}, Counts: []uint64{4, 5}, Count: 5, Sum: 0.5}
	r.st.Logins[reactor.LoginRefused] = 3
	r.st.Transfers[reactor.Upload].Bytes = 1000
	r.st.Transfers[reactor.Upload].Results[protocol.XferOK] = 2
	r.st.Refusals = []reactor.Refusal{{What: "session", Reason: "ban", Count: 4}}
	r.phases[protocol.PhaseIdle][1] = 7
	d := &fakeDTP{}
	d.st.Storage = dtp.PoolStats{Workers: 16, Capacity: 1040, Running: 2, Queued: 1, Refused: 9}
	d.st.DescriptorLimit, d.st.Descriptors = 1000, 12
	return r, d
}

func TestCollectExact(t *testing.T) {
	r, d := fakes()
	c := NewCollector(r, d, "v1")
	want := `
# HELP rftpd_commands_total Commands answered, by verb and the class of their final reply.
# TYPE rftpd_commands_total counter
rftpd_commands_total{class="2xx",verb="NOOP"} 5
# HELP rftpd_command_duration_seconds Time from a command's line to its final reply, by verb.
# TYPE rftpd_command_duration_seconds histogram
rftpd_command_duration_seconds_bucket{verb="NOOP",le="0.001"} 4
rftpd_command_duration_seconds_bucket{verb="NOOP",le="1"} 5
rftpd_command_duration_seconds_bucket{verb="NOOP",le="+Inf"} 5
rftpd_command_duration_seconds_sum{verb="NOOP"} 0.5
rftpd_command_duration_seconds_count{verb="NOOP"} 5
# HELP rftpd_logins_total Password checks answered, by result (ok, refused, tls_required, error).
# TYPE rftpd_logins_total counter
rftpd_logins_total{result="error"} 0
rftpd_logins_total{result="ok"} 0
rftpd_logins_total{result="refused"} 3
rftpd_logins_total{result="tls_required"} 0
# HELP rftpd_transfer_bytes_total Bytes moved on data connections, by direction.
# TYPE rftpd_transfer_bytes_total counter
rftpd_transfer_bytes_total{direction="download"} 0
rftpd_transfer_bytes_total{direction="listing"} 0
rftpd_transfer_bytes_total{direction="upload"} 1000
# HELP rftpd_pool_tasks Tasks in each worker pool, by state (running, queued).
# TYPE rftpd_pool_tasks gauge
rftpd_pool_tasks{pool="checksum",state="queued"} 0
rftpd_pool_tasks{pool="checksum",state="running"} 0
rftpd_pool_tasks{pool="password",state="queued"} 0
rftpd_pool_tasks{pool="password",state="running"} 0
rftpd_pool_tasks{pool="storage",state="queued"} 1
rftpd_pool_tasks{pool="storage",state="running"} 2
# HELP rftpd_event_loop_up 1 when the event loop answered this scrape's count of sessions in time, else 0.
# TYPE rftpd_event_loop_up gauge
rftpd_event_loop_up 1
# HELP rftpd_descriptors_limit The descriptor budget: the open-file limit less what the process holds otherwise.
# TYPE rftpd_descriptors_limit gauge
rftpd_descriptors_limit 1000
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"rftpd_commands_total", "rftpd_command_duration_seconds", "rftpd_logins_total",
		"rftpd_transfer_bytes_total", "rftpd_pool_tasks", "rftpd_event_loop_up", "rftpd_descriptors_limit"); err != nil {
		t.Fatal(err)
	}
	n := testutil.CollectAndCount(c, "rftpd_sessions")
	if n != 2*int(protocol.NumPhases) {
		t.Fatalf("%d rftpd_sessions series", n)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestCollectWithoutTheLoop(t *testing.T) {
	r, d := fakes()
	r.phaseErr = errors.New("no answer")
	r.accepting = false
	c := NewCollector(r, d, "v1")
	if n := testutil.CollectAndCount(c, "rftpd_sessions"); n != 0 {
		t.Fatalf("%d rftpd_sessions series without the loop's answer", n)
	}
	want := `
# HELP rftpd_event_loop_up 1 when the event loop answered this scrape's count of sessions in time, else 0.
# TYPE rftpd_event_loop_up gauge
rftpd_event_loop_up 0
# HELP rftpd_accepting 1 while new control connections are admitted; 0 once a shutdown drains.
# TYPE rftpd_accepting gauge
rftpd_accepting 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "rftpd_event_loop_up", "rftpd_accepting"); err != nil {
		t.Fatal(err)
	}
}
