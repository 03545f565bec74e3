// Tests of the command line: usage errors, mkdata, and a run against a real rftpd with -json.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rftpd/rftpd/bench"
	"github.com/rftpd/rftpd/bench/peers"
)

// TestMain lets compare start the ceiling as `self ceiling ...`, the floor
// as `self floor ...`, peers under `self reap ...` and the client matrix's
// own client as `self -q -url ...`, as the real binary does, when self is
// this test binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == "ceiling" || os.Args[1] == "floor" || os.Args[1] == "reap" || os.Args[1] == "-q") {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "-url is required"},
		{[]string{"-url", "http://x/"}, "scheme must be ftp"},
		{[]string{"-url", "ftp://127.0.0.1/", "-s", "nope"}, `unknown scenario "nope"`},
		{[]string{"-url", "ftp://127.0.0.1/", "-mode", "x"}, "data mode"},
		{[]string{"-url", "ftp://127.0.0.1/", "-c", "0"}, "must be positive"},
		{[]string{"-url", "ftp://127.0.0.1/", "-d", "2h"}, "at most"},
		{[]string{"-url", "ftp://127.0.0.1/", "-slow-rate", "0"}, "-slow-rate must be positive"},
		{[]string{"-url", "ftp://127.0.0.1/", "-slow-rcvbuf", "0"}, "-slow-rcvbuf must be positive, or -1"},
		{[]string{"-url", "ftp://127.0.0.1/", "stray"}, `unexpected argument "stray"`},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{"mkdata"}, "usage: ftpbench mkdata"},
		{[]string{"floor"}, "usage: ftpbench floor"},
		{[]string{"floor", "-root", "/", "extra"}, "usage: ftpbench floor"},
		{[]string{"-url", "ftp://127.0.0.1/", "-tls-insecure"}, "need -tls or an ftps:// URL"},
		{[]string{"-url", "ftp://127.0.0.1/", "-tls", "-tls-ca", "/nonexistent/ca.pem"}, "no such file"},
		{[]string{"suite", "-steps", "nothing-like-this"}, "matches no step"},
		{[]string{"compare", "-steps", "nothing-like-this"}, "matches no step of the suite, and the client matrix (-steps clients) needs"},
		{[]string{"compare", "-steps", "clients", "-clients", ""}, "matches no step"},
		{[]string{"compare", "-steps", "clients", "-servers", "vsftpd"}, "matches no step"},
		{[]string{"compare", "-clients", "curl,ncftp"}, `unknown client "ncftp" (have curl, lftp, wget, ftpbench)`},
		{[]string{"compare", "-client-rounds", "0"}, "usage: ftpbench compare"},
		{[]string{"suite", "-pin", "nowhere"}, `invalid value "nowhere" for flag -pin: bench: placement "nowhere": want same, split, off`},
		{[]string{"compare", "-pin", "SAME"}, `invalid value "SAME" for flag -pin`},
		{[]string{"-url", "ftp://127.0.0.1/", "-fill-cache", "20XB"}, "-fill-cache: size \"20XB\": want a number of bytes"},
		{[]string{"-url", "ftp://127.0.0.1/", "-fill-cache", "-1G"}, "-fill-cache: size \"-1G\""},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
	var out, errb bytes.Buffer
	run([]string{"-h"}, &out, &errb)
	for _, s := range bench.Scenarios() {
		if !strings.Contains(errb.String(), s.Name) {
			t.Errorf("-h does not list %s", s.Name)
		}
	}
}

func TestPinFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bench.Placement
	}{
		{nil, bench.PinSame},
		{[]string{"-pin", "split"}, bench.PinSplit},
		{[]string{"-pin", "off"}, bench.PinOff},
		{[]string{"-pin=same"}, bench.PinSame},
	} {
		var f suiteFlags
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(c.args); err != nil || f.pin != c.want {
			t.Errorf("%q: %q, %v; want %q", c.args, f.pin, err, c.want)
		}
	}
}

func TestResolvePin(t *testing.T) {
	for _, c := range []struct {
		p       bench.Placement
		allowed []int
		err     error
		want    bench.PinPlan
		note    string
	}{
		{bench.PinSame, []int{0, 1}, nil, bench.PinPlan{Placement: bench.PinSame}, ""},
		{bench.PinSplit, []int{0, 1}, nil, bench.PinPlan{Placement: bench.PinSplit, Server: 0, Client: 1}, ""},
		{bench.PinSplit, []int{1, 3}, nil, bench.PinPlan{Placement: bench.PinSplit, Server: 1, Client: 3}, ""},
		{bench.PinSplit, []int{0}, nil, bench.PinPlan{Placement: bench.PinOff},
			"ftpbench: -pin split: placement split needs two CPUs, and this process may run on one (CPUs [0]): the single-stream steps run unpinned\n"},
		{bench.PinSame, nil, errors.New("bench: pinning to CPUs needs Linux"), bench.PinPlan{Placement: bench.PinOff},
			"ftpbench: -pin same: bench: pinning to CPUs needs Linux: the single-stream steps run unpinned\n"},
		{bench.PinOff, nil, errors.New("no CPUs"), bench.PinPlan{Placement: bench.PinOff}, ""},
	} {
		var note strings.Builder
		if got := resolvePin(c.p, c.allowed, c.err, &note); got != c.want || note.String() != c.note {
			t.Errorf("%s on %v (%v): %+v, %q; want %+v, %q", c.p, c.allowed, c.err, got, note.String(), c.want, c.note)
		}
	}
}

// Every peer is started under `ftpbench reap`, for the suite's steps as
// for the client matrix, so that the CPU time of session processes whose
// parent exited first stays in the measured tree.
func TestPeersRunUnderReap(t *testing.T) {
	f := &compareFlags{}
	for _, name := range allServers {
		for _, so := range []startOpts{{}, {unsent: 65536}, {plain: true, keepUploads: true, inPlace: true}} {
			if o := f.options(name, "/opt/ftpbench", "/data", "/up", "/work", io.Discard, so); o.Reaper != "/opt/ftpbench" {
				t.Errorf("%s with %+v: reaper %q", name, so, o.Reaper)
			}
		}
	}
}

func TestMkdata(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	args := []string{"mkdata", "-large-size", "1048576", "-list-entries", "10", "-slow-size", "2097152", dir}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	fi, err := os.Stat(filepath.Join(dir, "large", "1MiB.bin"))
	if err != nil || fi.Size() != 1<<20 {
		t.Fatalf("large file: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "slow", "2MiB.bin")); err != nil || fi.Size() != 2<<20 {
		t.Fatalf("slow-get file: %v %v", fi, err)
	}
	if !strings.Contains(out.String(), "slow-get file slow/2MiB.bin") {
		t.Errorf("mkdata said %q", out.String())
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "list"))
	small, _ := os.ReadDir(filepath.Join(dir, "small"))
	if len(ents) != 10 || len(small) != 100 {
		t.Errorf("%d list entries, %d small files", len(ents), len(small))
	}
	// Again: the stamp says it is there already.
	before, _ := os.Stat(filepath.Join(dir, "small", "0000.bin"))
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("second run: exit %d", code)
	}
	after, _ := os.Stat(filepath.Join(dir, "small", "0000.bin"))
	if !before.ModTime().Equal(after.ModTime()) || !os.SameFile(before, after) {
		t.Error("second mkdata rewrote the data set")
	}
}

func TestRunAgainstRftpd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	bin := filepath.Join(t.TempDir(), "rftpd")
	if err := peers.BuildRftpd(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	d := bench.DefaultDataset
	d.LargeSize, d.SmallFiles, d.SlowSize = 4<<20, 10, 1<<20
	if err := bench.MakeDataset(data, d); err != nil {
		t.Fatal(err)
	}
	s, err := peers.StartRftpd(context.Background(), bin, peers.Options{Data: data, Upload: t.TempDir(), Work: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	jsonFile := filepath.Join(t.TempDir(), "r.json")
	var out, errb bytes.Buffer
	code := run([]string{"-url", s.URL, "-put-url", s.PutURL, "-s", "login,small-get,small-put,large-get", "-c", "2", "-d", "500ms",
		"-large-file", "large/4MiB.bin", "-small-files", "10", "-large-size", "1048576", "-label", "rftpd", "-json", jsonFile}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"scenario", "login", "small-get", "small-put", "large-get", "rftpd", "p99.9"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	rep, err := bench.ReadJSON(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 || rep.Machine == "" || !strings.Contains(rep.Command, "-json") {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Ops == 0 || r.Errors != 0 || r.Server != "rftpd" {
			t.Errorf("%s: %+v", r.Scenario, r)
		}
	}

	// -fill-cache fills, notes the fill on the result, and removes its files.
	out.Reset()
	errb.Reset()
	fillDir := t.TempDir()
	code = run([]string{"-url", s.URL, "-put-url", s.PutURL, "-s", "large-put", "-c", "1", "-n", "2", "-large-size", "1048576",
		"-fill-cache", "16MiB", "-fill-dir", fillDir, "-json", jsonFile}, &out, &errb)
	if code != 0 {
		t.Fatalf("-fill-cache: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if rep, err = bench.ReadJSON(jsonFile); err != nil || len(rep.Results) != 1 {
		t.Fatalf("-fill-cache: report %+v, %v", rep, err)
	}
	notes := strings.Join(rep.Results[0].Notes, "\n")
	for _, want := range []string{"page cache filled first: 16.0 MiB of throwaway files", fillDir + "/ftpbench-fill-", "memory before → after the fill", "memory after this scenario"} {
		if !strings.Contains(notes, want) || !strings.Contains(out.String(), want) {
			t.Errorf("-fill-cache: notes and table lack %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "removed the fill files") {
		t.Errorf("-fill-cache: stderr %q", errb.String())
	}
	if ents, _ := os.ReadDir(fillDir); len(ents) != 0 {
		t.Errorf("-fill-cache left %v", ents)
	}

	// A wrong path is counted and shown, and the exit status says so.
	out.Reset()
	errb.Reset()
	code = run([]string{"-url", s.URL, "-s", "small-get", "-c", "1", "-n", "3", "-small-dir", "missing"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "RETR: 550") || !strings.Contains(errb.String(), "3 operations failed") {
		t.Errorf("missing files: exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}

func TestComparePairs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	md, rep, _ := runCompare(t, "-servers", "rftpd,ceiling", "-steps", "large-get 1", "-runs", "1", "-pairs", "2",
		"-scale", "0.05", "-large-size", "4194304", "-slow-size", "1048576")
	// Rounds 1 and 2, each with all three servers, in the orders
	// bench.PairedOrder gives.
	var order []string
	for _, r := range rep.Results {
		if r.Pair == 0 {
			continue
		}
		order = append(order, fmt.Sprintf("%d %s", r.Pair, r.Server))
		if r.Errors != 0 || r.BytesPerSec <= 0 || r.Step != "large-get 1 paired ×0.05" {
			t.Errorf("round %d, %s: %+v", r.Pair, r.Server, r)
		}
	}
	// Every part of a round, and the suite's large-get 1 and large-get 1
	// TLS, name where they ran: -pin same by default.
	cpus, _ := bench.AllowedCPUs()
	same := "same: server and client on CPU " + fmt.Sprint(cpus[0])
	for _, r := range rep.Results {
		if r.Placement != same {
			t.Errorf("%s, %s: placement %q, want %q", r.Step, r.Server, r.Placement, same)
		}
	}
	if want := []string{"1 rftpd", "1 ceiling", "1 ceiling 2", "2 ceiling", "2 ceiling 2", "2 rftpd"}; !slices.Equal(order, want) {
		t.Errorf("rounds %q, want %q", order, want)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the median over 2 paired rounds of rftpd's rate over the mean of two ceilings'", "## large-get 1, paired with the ceiling", "| 2 | c c2 r |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}
}

// compare runs small-get in each server's turn and large-get 4 in rounds
// after them, against every server and a second rftpd back to back, in
// an order that changes from round to round.
func TestCompareInterleaved(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	pr := pageReportingDir(t, "25")
	md, rep, errb := runCompare(t, "-servers", "rftpd,ceiling", "-steps", "small-get,large-get 4", "-runs", "2", "-rounds", "2", "-pairs", "0", "-clients", "",
		"-scale", "0.05", "-large-size", "4194304", "-page-reporting", pr)
	var got []string
	for _, r := range rep.Results {
		s := r.Step + " " + r.Server
		if r.Round > 0 {
			s += fmt.Sprintf(" #%d", r.Round)
		}
		got = append(got, s)
		if r.Errors != 0 || r.Ops == 0 {
			t.Errorf("%s, %s: %d operations, %d errors", r.Step, r.Server, r.Ops, r.Errors)
		}
	}
	const lg = "large-get 4 ×0.05 "
	want := []string{
		"small-get ×0.05 rftpd", "small-get ×0.05 ceiling",
		lg + "rftpd #1", lg + "rftpd 2 #1", lg + "ceiling #1", lg + "rftpd 2 #2", lg + "ceiling #2", lg + "rftpd #2",
		"small-get ×0.05 rftpd", "small-get ×0.05 ceiling",
		lg + "ceiling #3", lg + "rftpd #3", lg + "rftpd 2 #3", lg + "ceiling #4", lg + "rftpd 2 #4", lg + "rftpd #4",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ran\n%q\nwant\n%q", got, want)
	}
	for _, line := range []string{"ftpbench: run 2 of 2: large-get 4 ×0.05, rounds 3 to 4\n", "ftpbench: large-get 4 ×0.05 round 4, server CPU (ms CPU per GiB): ceiling "} {
		if !strings.Contains(errb.String(), line) {
			t.Errorf("no progress line %q:\n%s", line, errb)
		}
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- Order: in each run every server took its turn through the other steps, minutes apart; large-get 4 ×0.05 ran one at a time, in 2 rounds per run:",
		"## The interleaved steps, round by round",
		"| large-get 4 ×0.05 | 4 | ",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks %q:\n%s", want, b)
		}
	}
	if !strings.Contains(string(b), "- Free page reporting to the host: held back for the run (") || !strings.Contains(rep.PageReporting, "from 25 to 300000 ms") {
		t.Errorf("the report does not say free page reporting was held back (JSON: %q):\n%s", rep.PageReporting, b)
	}
	if v, _ := os.ReadFile(filepath.Join(pr, "min_free_ms")); string(v) != "25" {
		t.Errorf("min_free_ms %q after the run, want 25 back", v)
	}
}

// A compare started while another holds the same free page reporting
// setting stops before it measures anything.
func TestCompareRefusedWhileHeld(t *testing.T) {
	dir := pageReportingDir(t, "0")
	held, err := bench.HoldPageReporting(dir, bench.PageReportingHold)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	tmp := t.TempDir()
	md := filepath.Join(tmp, "R.md")
	var out, errb bytes.Buffer
	code := run([]string{"compare", "-page-reporting", dir, "-servers", "rftpd", "-steps", "noop", "-runs", "1",
		"-cache", filepath.Join(tmp, "cache"), "-q", "-out", md}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), bench.ErrPageReportingBusy.Error()) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and that another run holds the setting", code, errb.String())
	}
	if _, err := os.Stat(md); err == nil {
		t.Error("the refused run wrote a report")
	}
	if v, _ := os.ReadFile(filepath.Join(dir, "min_free_ms")); string(v) != "300000" {
		t.Errorf("min_free_ms %q, want the first run's hold to stand", v)
	}
}

// pageReportingDir makes a folder like bench.PageReportingDir whose
// min_free_ms holds v.
func pageReportingDir(t *testing.T, v string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "min_free_ms"), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// compare runs slow-get against rftpd twice, the second time on an rftpd
// of its own started with limits.data_unsent = 64 KiB, and reports both.
func TestCompareSlowGet(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// Free page reporting that cannot be held back (a read-only sysctl
	// stands in for the setting as a user who is not root finds it): the
	// run warns and goes on.
	pr := t.TempDir()
	if err := os.Symlink("/proc/sys/kernel/ngroups_max", filepath.Join(pr, "min_free_ms")); err != nil {
		t.Fatal(err)
	}
	md, rep, errb := runCompare(t, "-servers", "rftpd", "-steps", "slow-get", "-runs", "1", "-scale", "0.02",
		"-large-size", "1048576", "-slow-size", "4194304", "-page-reporting", pr)
	if !strings.Contains(errb.String(), "warning: free page reporting to the host could not be held back") ||
		!strings.Contains(rep.PageReporting, "not held back") {
		t.Errorf("no warning that page reporting was not held (JSON: %q):\n%s", rep.PageReporting, errb.String())
	}
	var steps []string
	for _, r := range rep.Results {
		steps = append(steps, r.Step)
		if r.Errors != 0 || r.Slow == nil || r.Slow.Running != 20 || r.Slow.Sockets.Mem <= 0 {
			t.Errorf("%s: %+v, slow %+v", r.Step, r, r.Slow)
		}
	}
	if want := []string{"slow-get 1000 ×0.02", "slow-get 1000 data_unsent 64K ×0.02"}; !slices.Equal(steps, want) {
		t.Errorf("steps %q, want %q", steps, want)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Memory under slow downloads", "| rftpd | 20 of 20 |", "| rftpd, data_unsent 64.0 KiB | 20 of 20 |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}
	if !strings.Contains(errb.String(), "rftpd with limits.data_unsent = 65536 and uploads in place for slow-get 1000 data_unsent 64K ×0.02") {
		t.Errorf("stderr does not say rftpd was started with data_unsent:\n%s", errb.String())
	}
}

// runCompare builds rftpd and runs ftpbench compare against it with args,
// a cache, -out, -json and free page reporting settings (-page-reporting,
// unless args give one) of its own; it fails t unless compare exits 0, and
// returns the report's path, the JSON report and compare's stderr.
func runCompare(t *testing.T, args ...string) (md string, rep *bench.Report, stderr *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "rftpd")
	if err := peers.BuildRftpd(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	md, jsonFile := filepath.Join(dir, "R.md"), filepath.Join(dir, "r.json")
	var out, errb bytes.Buffer
	args = append([]string{"compare", "-page-reporting", pageReportingDir(t, "0")}, args...)
	args = append(args, "-cache", filepath.Join(dir, "cache"), "-rftpd", bin, "-q", "-out", md, "-json", jsonFile)
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	rep, err := bench.ReadJSON(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	return md, rep, &errb
}

// compare runs small-put against rftpd writing in place, as the peers do,
// then on an rftpd of its own with its default uploads, atomic and
// durable, and reports both rows.
func TestCompareAtomicUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	_, rep, errb := runCompare(t, "-servers", "rftpd", "-steps", "small-put", "-runs", "1", "-scale", "0.05", "-clients", "",
		"-large-size", "1048576")
	var steps []string
	for _, r := range rep.Results {
		steps = append(steps, r.Step)
		if r.Errors != 0 || r.Ops == 0 || r.ServerCPU <= 0 {
			t.Errorf("%s: %d operations, %d errors, server CPU %v s", r.Step, r.Ops, r.Errors, r.ServerCPU)
		}
	}
	if want := []string{"small-put ×0.05", "small-put atomic durable ×0.05"}; !slices.Equal(steps, want) {
		t.Errorf("steps %q, want %q", steps, want)
	}
	if !strings.Contains(errb.String(), "rftpd with atomic and durable uploads for small-put atomic durable ×0.05") {
		t.Errorf("stderr does not say rftpd was started with its default uploads:\n%s", errb.String())
	}
}

func TestOwnOptions(t *testing.T) {
	base := peers.Options{Data: "d", InPlaceUploads: true}
	for _, c := range []struct {
		st          bench.Step
		unsent      int
		inPlace     bool
		noStatCache bool
		settings    string
	}{
		{bench.Step{Label: "slow"}, 0, true, false, "uploads in place"},
		{bench.Step{Label: "slow 64K", DataUnsent: 65536}, 65536, true, false, "limits.data_unsent = 65536 and uploads in place"},
		{bench.Step{Label: "small-put atomic durable", AtomicUploads: true}, 0, false, false, "atomic and durable uploads"},
		{bench.Step{Label: "noop stat_cache off", StatCacheOff: true}, 0, true, true, "stat_cache off and uploads in place"},
	} {
		if c.st.RftpdOnly() != (c.unsent > 0 || !c.inPlace || c.noStatCache) {
			t.Errorf("%s: RftpdOnly %v", c.st.Label, c.st.RftpdOnly())
		}
		o := ownOptions(c.st, base)
		if o.Data != "d" || o.DataUnsent != c.unsent || o.InPlaceUploads != c.inPlace || o.NoStatCache != c.noStatCache {
			t.Errorf("%s: %+v", c.st.Label, o)
		}
		if got := ownSettings(c.st); got != c.settings {
			t.Errorf("%s: settings %q, want %q", c.st.Label, got, c.settings)
		}
	}
}

// The client matrix alone, with curl, against rftpd and its control: two
// rounds of a 32 MiB file each way.
func TestCompareClients(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl not installed (apt-get install curl)")
		}
		t.Skip("curl not installed (apt-get install curl)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rftpd")
	if err := peers.BuildRftpd(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	const size = 32 << 20
	cache := filepath.Join(dir, "cache")
	md, jsonFile := filepath.Join(dir, "R.md"), filepath.Join(dir, "r.json")
	var out, errb bytes.Buffer
	code := run([]string{"compare", "-servers", "rftpd", "-steps", "clients", "-clients", "curl,ftpbench", "-client-rounds", "2",
		"-large-size", fmt.Sprint(size), "-cache", cache, "-rftpd", bin, "-q", "-out", md, "-json", jsonFile, "-page-reporting", pageReportingDir(t, "0")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	rep, err := bench.ReadJSON(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Clients
	if m == nil || len(rep.Results) != 0 {
		t.Fatalf("report: matrix %+v, %d suite results", m, len(rep.Results))
	}
	if cpus, _ := bench.AllowedCPUs(); m.Placement != "same: server and client on CPU "+fmt.Sprint(cpus[0]) || m.PinNote != "" {
		t.Errorf("matrix placement %q (%s)", m.Placement, m.PinNote)
	}
	if !slices.Equal(m.Servers, []string{"rftpd", bench.ClientControl}) || m.Size != size || m.Rounds != 2 || m.Versions["curl"] == "" || m.Versions["ftpbench"] != "this build" {
		t.Errorf("matrix %+v", m)
	}
	// Round 1 runs rftpd first, round 2 the control first; curl's
	// download, then its upload, then ftpbench's own download (it sends
	// no uploads in the matrix).
	var order []string
	var cpu, shared float64
	for _, r := range m.Runs {
		order = append(order, fmt.Sprintf("%d %s %s %s", r.Round, r.Client, r.Direction, r.Server))
		if !r.OK() || r.Bytes != size || r.CPUError != "" {
			t.Errorf("run %+v", r)
		}
		cpu += r.ServerCPU
		shared += r.SharedCPU
	}
	want := []string{"1 curl download rftpd", "1 curl download rftpd 2", "1 curl upload rftpd", "1 curl upload rftpd 2",
		"1 ftpbench download rftpd", "1 ftpbench download rftpd 2",
		"2 curl download rftpd 2", "2 curl download rftpd", "2 curl upload rftpd 2", "2 curl upload rftpd",
		"2 ftpbench download rftpd 2", "2 ftpbench download rftpd"}
	if !slices.Equal(order, want) {
		t.Errorf("runs %q, want %q", order, want)
	}
	// 256 MiB in all: tens of milliseconds of rftpd's CPU at the least.
	if cpu <= 0 {
		t.Errorf("no server CPU measured: %+v", m.Runs)
	}
	// Server and client shared a CPU, whose busy time holds the server's
	// work and the client's (and each client's start): more than the
	// server's alone, but for /proc/stat's sampling in ticks, which over
	// twelve runs errs by far less than half.
	if shared <= 0 || shared < cpu/2 {
		t.Errorf("the shared CPU's busy time %.3fs against the servers' %.3fs: %+v", shared, cpu, m.Runs)
	}
	if _, err := os.Stat(filepath.Join(cache, "upload-rftpd", bench.ClientUploadName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the upload was left behind: %v", err)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"The client matrix alone", "## Client matrix", "| curl | download |", "| curl | upload |", "| ftpbench | download |", "| 2 | curl | upload | r2 r |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "## Results") {
		t.Errorf("report has the suite's sections:\n%s", b)
	}
	if !strings.Contains(out.String(), "CPU ms/GiB") {
		t.Errorf("stdout lacks the matrix's table:\n%s", out.String())
	}
}

// compare runs the noop steps against the floor too, and only those, and
// holds rftpd's CPU per command against it.
func TestCompareFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	md, rep, _ := runCompare(t, "-servers", "rftpd,floor", "-steps", "noop,small-get", "-runs", "1", "-scale", "0.05", "-clients", "",
		"-large-size", "1048576")
	floorNoop := false
	for _, r := range rep.Results {
		if r.Server != "floor" {
			continue
		}
		if r.Scenario != "noop" {
			t.Errorf("the floor ran %q", r.Name())
		}
		if r.Held == 0 {
			floorNoop = true
			if r.Errors != 0 || r.Ops == 0 || r.ServerCPU <= 0 {
				t.Errorf("floor noop: %d ops, %d errors, %v s CPU", r.Ops, r.Errors, r.ServerCPU)
			}
		}
	}
	if !floorNoop {
		t.Fatal("no noop result for the floor")
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "CPU per command against the floor") {
		t.Error("the report does not hold rftpd against the floor")
	}
	if rep.CPUSources["floor"] == "" || rep.CPUSources["rftpd"] == "" {
		t.Errorf("CPU sources %v: want one for each server", rep.CPUSources)
	}
	// Scheduled as one wherever the CPU is read from a group of its own
	// and a cpu hierarchy is mounted.
	for _, srv := range []string{"rftpd", "floor"} {
		sched, ok := rep.Sched[srv]
		if !ok {
			t.Errorf("the report does not say how %s was scheduled: %v", srv, rep.Sched)
		}
		if rep.CPUSources[srv] != bench.ProcCPUSource && cpuHierarchy() && sched == "" {
			t.Errorf("%s: its CPU time came from a control group (%s) and a cpu hierarchy is mounted, yet it was not scheduled as one", srv, rep.CPUSources[srv])
		}
	}
	if line := schedLine(string(b)); rep.Sched["rftpd"] != "" && !strings.Contains(line, rep.Sched["rftpd"]) {
		t.Errorf("the report's scheduling line %q does not name %q", line, rep.Sched["rftpd"])
	}
}

// cpuHierarchy reports whether a cgroup v1 hierarchy holding the cpu
// controller is mounted.
func cpuHierarchy() bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		_, post, ok := strings.Cut(line, " - ")
		f := strings.Fields(post)
		if ok && len(f) >= 3 && f[0] == "cgroup" && slices.Contains(strings.Split(f[2], ","), "cpu") {
			return true
		}
	}
	return false
}

// schedLine returns the report's line on scheduling, "" if none.
func schedLine(md string) string {
	for line := range strings.SplitSeq(md, "\n") {
		if strings.HasPrefix(line, "- Scheduling") {
			return line
		}
	}
	return ""
}
