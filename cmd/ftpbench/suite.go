// ftpbench suite: the standard suite against an rftpd it starts itself (make bench).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/bench"
	"github.com/rftpd/rftpd/bench/peers"
)

// suiteFlags are shared by suite and compare.
type suiteFlags struct {
	rftpd, cache, jsonFile, svgFile string
	version, steps                  string
	scale                           float64
	largeSize, slowSize             int64
	quiet                           bool
	pin                             bench.Placement // -pin
	plan                            bench.PinPlan   // -pin with its CPUs (resolvePin)
}

func (f *suiteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.rftpd, "rftpd", "bin/rftpd", "the rftpd binary to start")
	fs.StringVar(&f.cache, "cache", defaultCache(), "cache folder: data set, upload folders, peers")
	fs.StringVar(&f.jsonFile, "json", "", "also write the results as JSON to FILE")
	fs.StringVar(&f.svgFile, "svg", "", "also draw the results as an SVG chart in FILE")
	fs.Float64Var(&f.scale, "scale", 1, "multiply durations and session counts (0.1: a smoke run)")
	fs.Int64Var(&f.largeSize, "large-size", bench.DefaultDataset.LargeSize, "size of the large file")
	fs.Int64Var(&f.slowSize, "slow-size", bench.DefaultDataset.SlowSize, "size of slow-get's file")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	fs.StringVar(&f.version, "rftpd-version", "", "rftpd's version for reports (default: from the binary)")
	fs.StringVar(&f.steps, "steps", "", "run only the steps whose label contains one of these comma-separated words (e.g. TLS; compare: clients, the client matrix)")
	f.pin = bench.DefaultPlacement
	fs.Var(&f.pin, "pin", "where the single-stream steps (large-get 1 and beside 300 idle, large-put 1, large-get 1 TLS; compare: the paired rounds and the client matrix) run: "+
		"same (server and client on one CPU, the steady figure), split (server on one CPU, client on another) or off (unpinned)")
}

// resolvePin picks the CPUs of placement p among allowed (the CPUs this
// process may use). When p cannot be had here (split on one CPU, or no
// pinning on this system) it says so on stderr and returns an unpinned
// plan.
func resolvePin(p bench.Placement, allowed []int, allowedErr error, stderr io.Writer) bench.PinPlan {
	if allowedErr != nil && p != bench.PinOff {
		fmt.Fprintf(stderr, "ftpbench: -pin %s: %v: the single-stream steps run unpinned\n", p, allowedErr)
		return bench.PinPlan{Placement: bench.PinOff}
	}
	plan, err := bench.PlanFor(p, allowed)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: -pin %s: %v (CPUs %v): the single-stream steps run unpinned\n", p, strings.TrimPrefix(err.Error(), "bench: "), allowed)
		return bench.PinPlan{Placement: bench.PinOff}
	}
	return plan
}

// resolve sets f.plan from -pin and the CPUs this process may use.
func (f *suiteFlags) resolve(stderr io.Writer) {
	allowed, err := bench.AllowedCPUs()
	f.plan = resolvePin(f.pin, allowed, err, stderr)
	if f.plan.Active() {
		fmt.Fprintf(stderr, "ftpbench: placement of the single-stream steps: %s\n", f.plan)
	}
}

// stepWords are the words of -steps.
func (f *suiteFlags) stepWords() []string {
	if f.steps == "" {
		return nil
	}
	return strings.Split(f.steps, ",")
}

// suiteSteps is the standard suite, filtered by -steps and scaled by -scale.
func (f *suiteFlags) suiteSteps() ([]bench.Step, error) {
	steps := bench.FilterSteps(bench.StandardSuite, f.stepWords())
	if len(steps) == 0 {
		return nil, fmt.Errorf("-steps %q matches no step of the suite", f.steps)
	}
	return bench.ScaleSuite(steps, f.scale), nil
}

// makeCert makes the self-signed certificate of the FTPS steps in the
// cache folder, anew every run.
func (f *suiteFlags) makeCert() (cert, key string, err error) {
	dir := filepath.Join(f.cache, "tls")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	return peers.MakeCert(dir)
}

// defaultCache is world-readable on purpose: the peers serve the data set
// as unprivileged users (ftp, nobody), who cannot enter a home folder.
func defaultCache() string {
	return "/var/tmp/rftpd-bench"
}

// prepare makes the data set and returns its description and the folder.
func (f *suiteFlags) prepare(stderr io.Writer) (bench.Dataset, string, error) {
	ds := bench.DefaultDataset
	ds.LargeSize, ds.SlowSize = f.largeSize, f.slowSize
	dir := filepath.Join(f.cache, "data")
	fmt.Fprintf(stderr, "ftpbench: data set in %s (made once, then reused)\n", dir)
	if err := bench.MakeDataset(dir, ds); err != nil {
		return ds, "", err
	}
	return ds, dir, nil
}

// freshDir empties and returns cache/name.
func (f *suiteFlags) freshDir(name string) (string, error) {
	d := filepath.Join(f.cache, name)
	if err := os.RemoveAll(d); err != nil {
		return "", err
	}
	return d, os.MkdirAll(d, 0o755)
}

// suiteConfig is the scenario configuration for a started server.
func (f *suiteFlags) suiteConfig(s *peers.Server, ds bench.Dataset, stderr io.Writer, line *bench.ProgressLine) (bench.Config, error) {
	cfg := bench.DefaultConfig()
	var err error
	if cfg.Target, err = bench.ParseTarget(s.URL); err != nil {
		return cfg, err
	}
	if cfg.PutTarget, err = bench.ParseTarget(s.PutURL); err != nil {
		return cfg, err
	}
	cfg.Label = s.Name
	cfg.PID = s.PID
	cfg.Pin = f.plan
	cfg.Layout = ds.Layout()
	cfg.LargeSize = ds.LargeSize
	cfg.SmallSize = ds.SmallSize
	cfg.TempDir = f.cache
	cfg.HoldTime = 5 * time.Second
	cfg.Log = stderr
	if line != nil {
		cfg.Progress = line.Update
	}
	if s.TLS {
		// The certificate is its own root (peers.MakeCert): verified.
		opt := bench.TLSOptions{CAFile: filepath.Join(f.cache, "tls", "ftps-cert.pem")}
		if cfg.TLSConfig, err = opt.Config(s.Addr); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func suite(args []string, stdout, stderr io.Writer) int {
	var f suiteFlags
	fs := flag.NewFlagSet("ftpbench suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ftpbench suite [flags]\n\nstarts rftpd on loopback over the data set, uploads written in place, and runs the standard suite (about 8 minutes):")
		for _, s := range bench.StandardSuite {
			fmt.Fprintf(stderr, "  %-30s %s\n", s.Label, describeStep(s))
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || f.scale <= 0 || f.largeSize <= 0 || f.slowSize <= 0 {
		fs.Usage()
		return 2
	}
	f.resolve(stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ds, data, err := f.prepare(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	upload, err := f.freshDir("upload-rftpd")
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	work, err := os.MkdirTemp("", "ftpbench-suite-")
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(work)
	steps, err := f.suiteSteps()
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 2
	}
	cert, key, err := f.makeCert()
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	s, err := peers.StartRftpd(ctx, f.rftpd, peers.Options{Data: data, Upload: upload, Work: work, TLSCert: cert, TLSKey: key, InPlaceUploads: true})
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	defer s.Stop()
	if f.version != "" {
		s.Version = f.version
	}
	fmt.Fprintf(stderr, "ftpbench: rftpd %s (pid %d) on %s\n", s.Version, s.PID, s.URL)

	var line *bench.ProgressLine
	if !f.quiet {
		line = bench.NewProgressLine(os.Stderr)
	}
	cfg, err := f.suiteConfig(s, ds, stderr, line)
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	shared, own := ownSteps(steps)
	results, runErr := bench.RunSuite(ctx, shared, cfg)
	line.Clear()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
	}
	for _, st := range own {
		if ctx.Err() != nil {
			break
		}
		rs, err := f.runOwn(ctx, st, peers.Options{Data: data, Upload: upload, Work: work}, ds, stderr, line)
		line.Clear()
		results = append(results, rs...)
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	return finish(ctx, stdout, stderr, &f, "rftpd "+s.Version, []string{"rftpd"}, results, runErr)
}

// ownSteps splits steps into those run on the server already started, and
// those run against an rftpd of their own started with their settings
// (Step.RftpdOnly).
func ownSteps(steps []bench.Step) (shared, own []bench.Step) {
	for _, st := range steps {
		if st.RftpdOnly() {
			own = append(own, st)
		} else {
			shared = append(shared, st)
		}
	}
	return shared, own
}

// ownOptions are the settings an rftpd of st's own starts with: o, with
// st's data_unsent, and uploads atomic and durable (rftpd's defaults) only
// for a step that asks for them.
func ownOptions(st bench.Step, o peers.Options) peers.Options {
	o.DataUnsent = st.DataUnsent
	o.InPlaceUploads = !st.AtomicUploads
	o.NoStatCache = st.StatCacheOff
	return o
}

// ownSettings describes what an rftpd of st's own runs with, for the log.
func ownSettings(st bench.Step) string {
	var d []string
	if st.DataUnsent > 0 {
		d = append(d, fmt.Sprintf("limits.data_unsent = %d", st.DataUnsent))
	}
	if st.StatCacheOff {
		d = append(d, "stat_cache off")
	}
	if st.AtomicUploads {
		d = append(d, "atomic and durable uploads")
	} else {
		d = append(d, "uploads in place")
	}
	return strings.Join(d, " and ")
}

// runOwn starts rftpd with o and st's settings, runs st and stops it.
func (f *suiteFlags) runOwn(ctx context.Context, st bench.Step, o peers.Options, ds bench.Dataset, stderr io.Writer, line *bench.ProgressLine) ([]*bench.Result, error) {
	s, err := peers.StartRftpd(ctx, f.rftpd, ownOptions(st, o))
	if err != nil {
		return nil, fmt.Errorf("bench: suite step %q: %w", st.Label, err)
	}
	if f.version != "" {
		s.Version = f.version
	}
	fmt.Fprintf(stderr, "ftpbench: rftpd (pid %d) with %s for %s\n", s.PID, ownSettings(st), st.Label)
	cfg, err := f.suiteConfig(s, ds, stderr, line)
	if err != nil {
		s.Stop()
		return nil, err
	}
	rs, err := bench.RunSuite(ctx, []bench.Step{st}, cfg)
	if serr := s.Stop(); err == nil && serr != nil {
		err = fmt.Errorf("bench: suite step %q: %w", st.Label, serr)
	}
	return rs, err
}

// finish prints the table, writes JSON and SVG, and returns the exit status.
func finish(ctx context.Context, stdout, stderr io.Writer, f *suiteFlags, title string, servers []string, results []*bench.Result, runErr error) int {
	code := 0
	if len(results) > 0 {
		bench.WriteTable(stdout, results)
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", runErr)
		code = 1
	}
	rep := &bench.Report{Started: time.Now().UTC(), Machine: bench.Machine(), Command: "ftpbench " + strings.Join(os.Args[1:], " "), Results: results}
	if f.jsonFile != "" {
		if err := bench.WriteJSON(f.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
			code = 1
		}
	}
	if f.svgFile != "" {
		if err := writeChart(f.svgFile, title, servers, results); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
			code = 1
		}
	}
	var errs int64
	for _, r := range results {
		errs += r.Errors
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "ftpbench: %d operations failed (see the errors above)\n", errs)
		code = 1
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ftpbench: interrupted")
		code = 1
	}
	return code
}

func writeChart(path, title string, servers []string, results []*bench.Result) error {
	rows := bench.ChartRows(servers, results)
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteSVG(out, title, servers, rows); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func describeStep(s bench.Step) string {
	d := fmt.Sprintf("%s, %d workers", s.Scenario, s.Concurrency)
	if s.Sessions > 0 {
		d += fmt.Sprintf(", %d sessions", s.Sessions)
	}
	if s.Hold > 0 {
		d += fmt.Sprintf(", %d idle sessions held", s.Hold)
	}
	if s.Rate > 0 {
		d += fmt.Sprintf(", paced at %s operations/s in all", bench.FormatRate(s.Rate))
	}
	if s.PutSize > 0 {
		d += ", " + bench.FormatBytes(float64(s.PutSize)) + " per file"
	}
	switch {
	case s.Count > 0:
		d += fmt.Sprintf(", %d operations (at most %s)", s.Count, s.Duration)
	case s.Duration > 0:
		d += ", " + s.Duration.String()
	}
	if s.TLS {
		d += ", explicit FTPS (AUTH TLS, PROT P)"
	}
	if s.DataUnsent > 0 {
		d += fmt.Sprintf(", rftpd with limits.data_unsent = %d", s.DataUnsent)
	}
	if s.AtomicUploads {
		d += ", rftpd with its default uploads (atomic and durable)"
	}
	if s.StatCacheOff {
		d += ", rftpd with its stat cache off"
	}
	if s.Pin {
		d += ", server and client placed by -pin"
	}
	return d
}
