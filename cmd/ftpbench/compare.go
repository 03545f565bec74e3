// ftpbench compare: the standard suite against rftpd, vsftpd, pure-ftpd, ProFTPD, the sendfile ceiling and the noop floor, and the client matrix; writes RESULTS.md.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/bench"
	"github.com/rftpd/rftpd/bench/peers"
)

var allServers = []string{"rftpd", "vsftpd", "pure-ftpd", "proftpd", "ceiling", "floor"}

// forking peers run a process (or two) per session: their idle populations
// are capped so the machine (32,768 PIDs, 24 GiB) survives.
var forking = map[string]bool{"vsftpd": true, "pure-ftpd": true, "proftpd": true}

// tlsServers run the FTPS steps; the others skip them.
var tlsServers = map[string]bool{"rftpd": true, "vsftpd": true}

type compareFlags struct {
	suiteFlags
	servers, peersDir, out string
	runs, peerSessions     int
	pairs                  int    // rounds of bench.PairedStep per run
	rounds                 int    // rounds of each interleaved step per run
	cert, key              string // the FTPS steps' certificate
	clients                string // the client matrix's clients ("": none)
	clientRounds           int
	pageReporting          string // the guest's free page reporting settings ("": leave alone)

	mu         sync.Mutex
	cpuSources map[string]string // server → where its CPU time was read (Report.CPUSources)
	sched      map[string]string // server → how it was scheduled (Report.Sched)
}

// clientTimeout bounds one client run of the matrix.
const clientTimeout = 5 * time.Minute

func compare(args []string, stdout, stderr io.Writer) int {
	var f compareFlags
	fs := flag.NewFlagSet("ftpbench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.StringVar(&f.servers, "servers", strings.Join(allServers, ","), "servers to compare, in order")
	fs.StringVar(&f.peersDir, "peers", "", "where bench/fetch-peers.sh unpacked the peers (default: CACHE/peers)")
	fs.StringVar(&f.out, "out", "bench/RESULTS.md", "the Markdown report to write")
	fs.IntVar(&f.runs, "runs", 3, "repetitions of the suite; the report shows medians")
	fs.IntVar(&f.pairs, "pairs", 12, "rounds per run of large-get 1 against rftpd and two ceilings back to back (0: none)")
	fs.IntVar(&f.rounds, "rounds", 4, "rounds per run of each interleaved step (large-get 1, …): every server and a second rftpd, the control, run it back to back, each for the step's duration over -rounds")
	fs.IntVar(&f.peerSessions, "peer-sessions", 2000, "idle sessions at most for servers that fork per session")
	fs.StringVar(&f.clients, "clients", strings.Join(bench.Clients, ","), "the client matrix: these clients fetch and send the large file (-large-size) "+
		"from rftpd, a second rftpd and the peers among -servers, once after the runs (\"\": no matrix; -steps clients: the matrix alone)")
	fs.IntVar(&f.clientRounds, "client-rounds", 10, "rounds of the client matrix (10: every server in every place twice with five servers)")
	fs.StringVar(&f.pageReporting, "page-reporting", bench.PageReportingDir, "where a guest kernel's free page reporting settings are; for the run a page must stay free "+
		bench.PageReportingHold.String()+" before it goes back to the host (\"\": leave it as it is)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ftpbench compare [flags]\n\nruns the standard suite against each server in turn and its large transfers against every server back to back, -runs times, then the client matrix, and writes medians to -out")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	servers := strings.Split(f.servers, ",")
	for _, s := range servers {
		if !slices.Contains(allServers, s) {
			fmt.Fprintf(stderr, "ftpbench: compare: unknown server %q (have %s)\n", s, strings.Join(allServers, ", "))
			return 2
		}
	}
	if fs.NArg() > 0 || f.runs < 1 || f.pairs < 0 || f.rounds < 1 || f.scale <= 0 || f.peerSessions < 1 || f.largeSize <= 0 || f.slowSize <= 0 || f.clientRounds < 1 {
		fs.Usage()
		return 2
	}
	var clients []string
	if f.clients != "" {
		clients = strings.Split(f.clients, ",")
	}
	for _, c := range clients {
		if !slices.Contains(bench.Clients, c) {
			fmt.Fprintf(stderr, "ftpbench: compare: unknown client %q (have %s)\n", c, strings.Join(bench.Clients, ", "))
			return 2
		}
	}
	matrix := len(clients) > 0 && slices.Contains(servers, "rftpd") && bench.Selected(bench.ClientStep, f.stepWords())
	steps := bench.ScaleSuite(bench.FilterSteps(bench.StandardSuite, f.stepWords()), f.scale)
	if len(steps) == 0 && !matrix {
		fmt.Fprintf(stderr, "ftpbench: compare: -steps %q matches no step of the suite, and the client matrix (-steps %s) needs -clients and rftpd among -servers\n", f.steps, bench.ClientStep)
		return 2
	}
	if matrix {
		if err := bench.LookClients(clients); err != nil {
			fmt.Fprintf(stderr, "ftpbench: compare: -clients: %v\n", err)
			return 2
		}
	}
	if f.peersDir == "" {
		f.peersDir = filepath.Join(f.cache, "peers")
	}
	f.resolve(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var pageReporting string
	if f.pageReporting != "" {
		pr, err := bench.HoldPageReporting(f.pageReporting, bench.PageReportingHold)
		if err != nil {
			fmt.Fprintf(stderr, "ftpbench: compare: %v\n", err)
			return 1
		}
		defer func() {
			if err := pr.Release(); err != nil {
				fmt.Fprintf(stderr, "ftpbench: compare: %v\n", err)
			}
		}()
		if pr.Warning != "" {
			fmt.Fprintf(stderr, "ftpbench: compare: warning: %s (-page-reporting \"\" leaves it alone)\n", pr.Warning)
		}
		pageReporting = pr.Note
	}

	ds, data, err := f.prepare(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	var line *bench.ProgressLine
	if !f.quiet {
		line = bench.NewProgressLine(os.Stderr)
	}
	if f.cert, f.key, err = f.makeCert(); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	started := time.Now().UTC()
	var results []*bench.Result
	versions := map[string]string{}
	var problems []string
	turns, rounds := bench.SplitInterleaved(steps)
	for run := 1; run <= f.runs && ctx.Err() == nil && len(steps) > 0; run++ {
		for _, name := range servers {
			if ctx.Err() != nil {
				break
			}
			if len(f.stepsFor(name, turns)) == 0 {
				continue
			}
			fmt.Fprintf(stderr, "ftpbench: run %d of %d: %s\n", run, f.runs, name)
			rs, ver, err := f.runServer(ctx, name, self, data, ds, turns, stderr, line)
			line.Clear()
			if ver != "" {
				versions[name] = ver
			}
			if err != nil {
				msg := fmt.Sprintf("run %d, %s: %v", run, name, err)
				fmt.Fprintf(stderr, "ftpbench: %s\n", msg)
				problems = append(problems, msg)
			}
			results = append(results, rs...)
		}
		// The interleaved steps, one at a time, in rounds against every
		// server and the control back to back, each round in an order of
		// its own.
		for k, st := range rounds {
			first := (run-1)*f.rounds + 1
			fmt.Fprintf(stderr, "ftpbench: run %d of %d: %s, rounds %d to %d\n", run, f.runs, st.Label, first, first+f.rounds-1)
			rs, vs, err := f.runRounds(ctx, servers, self, data, ds, st, first, f.rounds, k, stderr, line)
			maps.Copy(versions, vs)
			if err != nil {
				msg := fmt.Sprintf("run %d, %s: %v", run, st.Label, err)
				fmt.Fprintf(stderr, "ftpbench: %s\n", msg)
				problems = append(problems, msg)
			}
			results = append(results, rs...)
		}
		if f.pairs > 0 && pairing(servers, steps) && ctx.Err() == nil {
			first := (run-1)*f.pairs + 1
			fmt.Fprintf(stderr, "ftpbench: run %d of %d: %s, rounds %d to %d\n", run, f.runs, bench.PairedStep.Label, first, first+f.pairs-1)
			rs, err := f.runPairs(ctx, self, data, ds, first, f.pairs, stderr, line)
			if err != nil {
				msg := fmt.Sprintf("run %d, %s: %v", run, bench.PairedStep.Label, err)
				fmt.Fprintf(stderr, "ftpbench: %s\n", msg)
				problems = append(problems, msg)
			}
			results = append(results, rs...)
		}
	}
	var cm *bench.ClientMatrix
	if matrix && ctx.Err() == nil {
		fmt.Fprintf(stderr, "ftpbench: client matrix: %s, %d rounds\n", strings.Join(clients, ", "), f.clientRounds)
		m, vs, err := f.runClients(ctx, servers, clients, self, data, ds, stderr)
		maps.Copy(versions, vs)
		if err != nil {
			msg := fmt.Sprintf("client matrix: %v", err)
			fmt.Fprintf(stderr, "ftpbench: %s\n", msg)
			problems = append(problems, msg)
		}
		cm = m
	}
	if f.version != "" {
		versions["rftpd"] = f.version
	}
	if len(results) > 0 {
		bench.WriteTable(stdout, results)
	}
	if cm != nil {
		if len(results) > 0 {
			fmt.Fprintln(stdout)
		}
		bench.WriteClientTable(stdout, cm)
	}
	rep := &bench.Report{Started: started, Machine: bench.Machine(), Command: "ftpbench compare " + strings.Join(args, " "), Results: results, Warnings: problems, Clients: cm, CPUSources: f.cpuSources, Sched: f.sched, PageReporting: pageReporting}
	if f.jsonFile != "" {
		if err := bench.WriteJSON(f.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		}
	}
	svg := f.svgFile
	if svg == "" {
		svg = strings.TrimSuffix(f.out, ".md") + ".svg"
	}
	suite := slices.DeleteFunc(slices.Clone(results), func(r *bench.Result) bool { return r.Pair > 0 })
	wrote := f.out
	if len(suite) > 0 {
		if err := writeChart(svg, "FTP servers on loopback, medians of "+fmt.Sprint(f.runs)+" runs", servers, suite); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
			return 1
		}
		wrote += " and " + svg
	}
	md := bench.CompareMarkdown(bench.CompareInput{
		Report: rep, Servers: servers, Versions: versions, Runs: f.runs, Steps: steps, Chart: filepath.Base(svg),
		PeerSessions: f.peerSessions, Scale: f.scale, LargeSize: ds.LargeSize, Cores: runtime.NumCPU(), Pin: f.plan, Rounds: f.rounds,
	})
	if err := os.WriteFile(f.out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "ftpbench: wrote %s\n", wrote)
	if ctx.Err() != nil || len(problems) > 0 {
		return 1
	}
	return 0
}

// startOpts say how start sets a server up.
type startOpts struct {
	// plain: no FTPS, not even for the servers that run the suite's
	// FTPS steps; keepUploads: leave what the upload folder holds (the
	// client matrix removes its own file); inPlace: rftpd writes uploads
	// in place and without fsync, as the peers do.
	// noStatCache: rftpd's stat cache off.
	plain, keepUploads, inPlace, noStatCache bool
	unsent                                   int      // rftpd: limits.data_unsent, when positive
	extra                                    []string // rftpd: more flags
}

// uploadDir is the folder where name's writable account stores files.
func (f *compareFlags) uploadDir(name string) string {
	if name == "rftpd" {
		return filepath.Join(f.cache, "upload-rftpd")
	}
	return filepath.Join(f.cache, "upload-peers")
}

// options are what start starts server name with. Every peer runs under
// `self reap` (peers.Reap), for every step: vsftpd's session parent may
// exit before it has waited for its child, which did the transfer, and
// that child's CPU time then leaves the measured tree, unless a subreaper
// inside it reaps the child.
func (f *compareFlags) options(name, self, data, upload, work string, stderr io.Writer, so startOpts) peers.Options {
	o := peers.Options{Data: data, Upload: upload, Work: work, Log: stderr, DataUnsent: so.unsent, InPlaceUploads: so.inPlace, NoStatCache: so.noStatCache, Reaper: self}
	if tlsServers[name] && !so.plain {
		o.TLSCert, o.TLSKey = f.cert, f.key
	}
	return o
}

// start starts one server over the data set in a work folder of its own;
// done stops the server (an error only when rftpd did not stop cleanly:
// peers may exit non-zero on SIGTERM) and removes the folder.
func (f *compareFlags) start(ctx context.Context, name, self, data string, stderr io.Writer, so startOpts) (s *peers.Server, done func() error, err error) {
	work, err := os.MkdirTemp("", "ftpbench-"+name+"-")
	if err != nil {
		return nil, nil, err
	}
	upload := f.uploadDir(name)
	if so.keepUploads {
		err = os.MkdirAll(upload, 0o755)
	} else {
		err = emptyDir(upload)
	}
	if err != nil {
		os.RemoveAll(work)
		return nil, nil, err
	}
	o := f.options(name, self, data, upload, work, stderr, so)
	u := peers.Unpacked{Dir: f.peersDir}
	switch name {
	case "rftpd":
		s, err = peers.StartRftpd(ctx, f.rftpd, o, so.extra...)
	case "vsftpd":
		s, err = u.StartVsftpd(ctx, o)
	case "pure-ftpd":
		s, err = u.StartPureFTPd(ctx, o)
	case "proftpd":
		s, err = u.StartProFTPD(ctx, o)
	case "ceiling":
		s, err = peers.StartCeiling(ctx, self, o)
	case "floor":
		s, err = peers.StartFloor(ctx, self, o)
	}
	if err != nil {
		os.RemoveAll(work)
		return nil, nil, err
	}
	f.mu.Lock()
	if f.cpuSources == nil {
		f.cpuSources = map[string]string{}
	}
	f.cpuSources[name] = cmp.Or(s.CPUSource, bench.ProcCPUSource)
	if f.sched == nil {
		f.sched = map[string]string{}
	}
	f.sched[name] = s.Sched
	f.mu.Unlock()
	return s, func() error {
		err := s.Stop()
		os.RemoveAll(work)
		if name != "rftpd" {
			return nil
		}
		return err
	}, nil
}

// runServer starts one server, runs the steps that apply to it and stops it.
// rftpd writes uploads in place, as the peers do, and runs each step with
// settings of its own (Step.RftpdOnly) on another
// instance started for it; the peers skip those steps.
func (f *compareFlags) runServer(ctx context.Context, name, self, data string, ds bench.Dataset, steps []bench.Step, stderr io.Writer, line *bench.ProgressLine) ([]*bench.Result, string, error) {
	shared, own := ownSteps(f.stepsFor(name, steps))
	var rs []*bench.Result
	var version string
	var err error
	if len(shared) > 0 || len(own) == 0 {
		rs, version, err = f.runSteps(ctx, name, self, data, startOpts{inPlace: true}, ds, shared, stderr, line)
	}
	for _, st := range own {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "ftpbench: %s with %s for %s\n", name, ownSettings(st), st.Label)
		o := ownOptions(st, peers.Options{})
		so := startOpts{unsent: o.DataUnsent, inPlace: o.InPlaceUploads, noStatCache: o.NoStatCache}
		more, v, oerr := f.runSteps(ctx, name, self, data, so, ds, []bench.Step{st}, stderr, line)
		rs = append(rs, more...)
		if version == "" {
			version = v
		}
		if err == nil {
			err = oerr
		}
	}
	return rs, version, err
}

// stepsFor returns the steps that name runs, as it runs them: the ceiling
// only sends files, the floor only answers the noop steps, a server that
// forks per session skips what only one process can hold and holds at
// most f.peerSessions sessions, and so on.
func (f *compareFlags) stepsFor(name string, steps []bench.Step) []bench.Step {
	var mine []bench.Step
	for _, st := range steps {
		if name == "ceiling" && st.Scenario != "large-get" && st.Scenario != "small-get" {
			continue // the ceiling only sends files
		}
		if name == "floor" && st.Scenario != "noop" {
			continue // the floor only answers the noop step's commands
		}
		if forking[name] && st.SingleProcess || st.TLS && !tlsServers[name] || st.RftpdOnly() && name != "rftpd" {
			continue
		}
		if forking[name] {
			st.Sessions = min(st.Sessions, f.peerSessions)
			if st.Hold+st.Concurrency > f.peerSessions {
				st.Hold = max(0, f.peerSessions-st.Concurrency)
			}
		}
		mine = append(mine, st)
	}
	return mine
}

// runSteps starts one server as so says, runs steps on it and stops it.
func (f *compareFlags) runSteps(ctx context.Context, name, self, data string, so startOpts, ds bench.Dataset, steps []bench.Step, stderr io.Writer, line *bench.ProgressLine) ([]*bench.Result, string, error) {
	s, done, err := f.start(ctx, name, self, data, stderr, so)
	if err != nil {
		return nil, "", err
	}
	cfg, err := f.suiteConfig(s, ds, stderr, line)
	if err != nil {
		done()
		return nil, s.Version, err
	}
	rs, err := bench.RunSuite(ctx, steps, cfg)
	if derr := done(); err == nil {
		err = derr
	}
	return rs, s.Version, err
}

// pairing reports whether compare runs bench.PairedStep: both rftpd and
// the ceiling are compared and the steps include plain large-get 1.
func pairing(servers []string, steps []bench.Step) bool {
	if !slices.Contains(servers, "rftpd") || !slices.Contains(servers, "ceiling") {
		return false
	}
	return slices.ContainsFunc(steps, func(s bench.Step) bool {
		return s.Scenario == "large-get" && s.Concurrency == 1 && !s.TLS
	})
}

// runPairs starts rftpd and two ceilings side by side and runs n rounds
// of bench.PairedStep, numbered from first; a round runs the step against
// all three, back to back, in the order bench.PairedOrder gives.
func (f *compareFlags) runPairs(ctx context.Context, self, data string, ds bench.Dataset, first, n int, stderr io.Writer, line *bench.ProgressLine) (out []*bench.Result, err error) {
	st := bench.ScaleSuite([]bench.Step{bench.PairedStep}, f.scale)[0]
	var cfgs [3]bench.Config
	for i, name := range []string{"rftpd", "ceiling", "ceiling"} {
		s, done, serr := f.start(ctx, name, self, data, stderr, startOpts{})
		if serr != nil {
			return nil, serr
		}
		defer func() {
			if derr := done(); err == nil {
				err = derr
			}
		}()
		if cfgs[i], err = f.suiteConfig(s, ds, stderr, line); err != nil {
			return nil, err
		}
	}
	cfgs[2].Label = bench.PairedControl
	for k := range n {
		round := first + k
		for _, i := range bench.PairedOrder(round) {
			if ctx.Err() != nil {
				return out, err
			}
			rs, rerr := bench.RunSuite(ctx, []bench.Step{st}, cfgs[i])
			line.Clear()
			for _, r := range rs {
				r.Pair = round
			}
			out = append(out, rs...)
			if rerr != nil && err == nil {
				err = rerr
			}
		}
	}
	return out, err
}

// runRounds starts every server among servers that runs st, and beside
// rftpd a second one (bench.ClientControl), side by side, and runs n
// rounds of st numbered from first, each round for st's duration over
// n: a round runs the step against all of them, back to back, in the
// order bench.ClientOrder gives for the round plus shift (so that the
// steps of a run do not share their orders). A server that does not
// start is left out, and its error returned after the rounds. It returns
// the servers' versions too.
func (f *compareFlags) runRounds(ctx context.Context, servers []string, self, data string, ds bench.Dataset, st bench.Step, first, n, shift int, stderr io.Writer, line *bench.ProgressLine) (out []*bench.Result, versions map[string]string, err error) {
	versions = map[string]string{}
	st = bench.RoundStep(st, n)
	var names []string
	for _, s := range servers {
		names = append(names, s)
		if s == "rftpd" {
			names = append(names, bench.ClientControl)
		}
	}
	type target struct {
		cfg   bench.Config
		steps []bench.Step // st as this server runs it (stepsFor)
	}
	var ts []target
	for _, name := range names {
		kind, so := name, startOpts{inPlace: true}
		if name == bench.ClientControl {
			kind, so.extra = "rftpd", []string{"-passive-ports", peers.ControlPassivePorts()}
		}
		mine := f.stepsFor(kind, []bench.Step{st})
		if len(mine) == 0 {
			continue
		}
		s, done, serr := f.start(ctx, kind, self, data, stderr, so)
		if serr != nil {
			if err == nil {
				err = fmt.Errorf("%s: %w", name, serr)
			}
			continue // the rounds go on without it
		}
		defer func() {
			if derr := done(); err == nil && derr != nil {
				err = fmt.Errorf("%s: %w", name, derr)
			}
		}()
		cfg, cerr := f.suiteConfig(s, ds, stderr, line)
		if cerr != nil {
			if err == nil {
				err = fmt.Errorf("%s: %w", name, cerr)
			}
			continue
		}
		cfg.Label = name
		if name != bench.ClientControl {
			versions[name] = s.Version
		}
		ts = append(ts, target{cfg, mine})
	}
	for k := range n {
		round := first + k
		var figs []string
		unit := "?"
		for _, i := range bench.ClientOrder(round+shift, len(ts)) {
			if ctx.Err() != nil {
				return out, versions, err
			}
			t := ts[i]
			rs, rerr := bench.RunSuite(ctx, t.steps, t.cfg)
			line.Clear()
			for _, r := range rs {
				r.Round = round
				fig := "?"
				if v, u := bench.CPUCost(r); u != "" {
					fig, unit = fmt.Sprintf("%.0f", v), u
				}
				figs = append(figs, t.cfg.Label+" "+fig)
			}
			out = append(out, rs...)
			if rerr != nil && err == nil {
				err = fmt.Errorf("round %d, %s: %w", round, t.cfg.Label, rerr)
			}
		}
		fmt.Fprintf(stderr, "ftpbench: %s round %d, server CPU (%s): %s\n", st.Label, round, unit, strings.Join(figs, ", "))
	}
	return out, versions, err
}

// runClients starts rftpd, a second rftpd (the control) and the peers
// among servers, all at once and with uploads written in place, runs the
// client matrix against them and stops them. It returns the servers'
// versions too.
func (f *compareFlags) runClients(ctx context.Context, servers, clients []string, self, data string, ds bench.Dataset, stderr io.Writer) (m *bench.ClientMatrix, versions map[string]string, err error) {
	versions = map[string]string{}
	names := []string{"rftpd", bench.ClientControl}
	for _, s := range servers {
		if s != "rftpd" && s != "ceiling" && s != "floor" {
			names = append(names, s)
		}
	}
	var targets []bench.ClientTarget
	for _, name := range names {
		kind, so := name, startOpts{plain: true, keepUploads: true, inPlace: true}
		if name == bench.ClientControl {
			kind, so.extra = "rftpd", []string{"-passive-ports", peers.ControlPassivePorts()}
		}
		s, done, serr := f.start(ctx, kind, self, data, stderr, so)
		if serr != nil {
			return nil, versions, fmt.Errorf("%s: %w", name, serr)
		}
		defer func() {
			if derr := done(); err == nil && derr != nil {
				err = fmt.Errorf("%s: %w", name, derr)
			}
		}()
		if name != bench.ClientControl {
			versions[name] = s.Version
		}
		targets = append(targets, bench.ClientTarget{Name: name, URL: s.URL, PutURL: s.PutURL, PID: s.PID, Upload: f.uploadDir(kind)})
	}
	file := filepath.Join(data, filepath.FromSlash(ds.Layout().LargeFile))
	var group []string // the current client and direction's figures, in the order run
	cfg := bench.ClientConfig{
		Targets: targets, Clients: clients, Rounds: f.clientRounds,
		File: ds.Layout().LargeFile, Source: file, Warm: file, Size: ds.LargeSize, Timeout: clientTimeout, Pin: f.plan, Self: self,
		Done: func(r *bench.ClientRun) {
			fig := "failed"
			if v, ok := r.CPUPerGiB(); ok {
				fig = fmt.Sprintf("%.0f", v)
			} else if r.OK() {
				fig = "?"
			}
			group = append(group, r.Server+" "+fig)
			if r.Position == len(targets)-1 {
				fmt.Fprintf(stderr, "ftpbench: clients round %d of %d, %s %s, ms CPU per GiB: %s\n", r.Round, f.clientRounds, r.Client, r.Direction, strings.Join(group, ", "))
				group = group[:0]
			}
		},
	}
	m, err = bench.RunClientMatrix(ctx, cfg)
	return m, versions, err
}

// emptyDir removes what dir holds, keeping dir itself (and its owner).
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
