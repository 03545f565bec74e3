// Tests of the audit records: logins with the reason of a refusal, changes, and transfers.
package dtp

import (
	"errors"
	"io/fs"
	"sync"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// records collects audit records.
type records struct {
	mu      sync.Mutex
	logins  []LoginRecord
	changes []ChangeRecord
	xfers   []TransferRecord
}

func (r *records) Login(l LoginRecord) { r.mu.Lock(); r.logins = append(r.logins, l); r.mu.Unlock() }
func (r *records) Change(c ChangeRecord) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}
func (r *records) Transfer(x TransferRecord) {
	r.mu.Lock()
	r.xfers = append(r.xfers, x)
	r.mu.Unlock()
}

func TestAuditRecords(t *testing.T) {
	rec := &records{}
	cfg := DefaultConfig()
	cfg.Audit = rec
	e := newEnv(t, &cfg)

	e.do(protocol.ReqLogin{User: "u", Pass: "wrong"})
	expect[protocol.EvLogin](t, e.ev)
	e.do(protocol.ReqLogin{User: "stranger", Pass: "x"})
	expect[protocol.EvLogin](t, e.ev)
	e.do(protocol.ReqLogin{User: "anonymous", Pass: "me@x"})
	expect[protocol.EvLogin](t, e.ev)
	e.do(protocol.ReqLogin{User: "u", Pass: "secret", Secure: true})
	expect[protocol.EvLogin](t, e.ev)
	rec.mu.Lock()
	got := rec.logins
	rec.mu.Unlock()
	want := []LoginRecord{
		{Client: ctlRemote, User: "u", OK: true}, // newEnv's own login
		{Client: ctlRemote, User: "u", Reason: RefusedPassword},
		{Client: ctlRemote, User: "stranger", Reason: RefusedUnknownUser},
		{Client: ctlRemote, User: "anonymous", Reason: RefusedNoAnonymous},
		{Client: ctlRemote, User: "u", TLS: true, OK: true},
	}
	if len(got) != len(want) {
		t.Fatalf("login records %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("login record %d: %+v, want %+v", i, got[i], want[i])
		}
	}

	e.do(protocol.ReqFile{Op: protocol.OpMkdir, Path: "/d"})
	mustOK(t, expect[protocol.EvFile](t, e.ev).Err)
	e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/d"}) // not a change: no record
	expect[protocol.EvFile](t, e.ev)
	e.do(protocol.ReqFile{Op: protocol.OpDelete, Path: "/nothere"})
	expect[protocol.EvFile](t, e.ev)
	rec.mu.Lock()
	changes := rec.changes
	rec.mu.Unlock()
	if len(changes) != 2 || changes[0].Op != protocol.OpMkdir || changes[0].Path != "/d" || changes[0].Err != nil || changes[0].User != "u" ||
		changes[1].Verb() != "DELE" || !errors.Is(changes[1].Err, fs.ErrNotExist) {
		t.Fatalf("change records %+v", changes)
	}

	// STOU: the record names the file it made; a missing file's RETR
	// never started.
	st, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/d"}, []byte("12345"))
	mustOK(t, done.Err)
	e.pasv()
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/nothere"})
	expect[protocol.EvTransferDone](t, e.ev)
	rec.mu.Lock()
	xfers := rec.xfers
	rec.mu.Unlock()
	if len(xfers) != 2 {
		t.Fatalf("transfer records %+v", xfers)
	}
	x := xfers[0]
	if x.Path != "/d/"+st.Name || x.Bytes != 5 || !x.Started || x.Err != nil || !x.Upload() || x.User != "u" || x.Start.IsZero() {
		t.Errorf("STOU record %+v (name %q)", x, st.Name)
	}
	if x := xfers[1]; x.Started || x.Err == nil || x.Kind != protocol.XferRetr {
		t.Errorf("missing file's RETR record %+v", x)
	}
}
