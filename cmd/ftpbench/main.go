// Command ftpbench is a load generator for any FTP server: it runs the bench
// scenarios against an ftp:// URL and prints a table (and JSON, on request).
//
//	ftpbench -url ftp://127.0.0.1:2121/ -s small-get,large-get -c 8 -d 10s
//	ftpbench -url ftp://127.0.0.1:2121/ -s idle -sessions 10000 -pid 1234
//	ftpbench -url ftp://127.0.0.1:2121/ -s slow-get -sessions 1000 -slow-rate 65536 -pid 1234
//	ftpbench -url ftp://u:pw@127.0.0.1:2121/ -s large-put -n 3 -pid 1234 -fill-cache auto
//	ftpbench mkdata DIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/bench"
	"github.com/rftpd/rftpd/bench/peers"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `usage:
  ftpbench -url ftp[s]://[user[:pass]@]host:port/[path] [flags] run scenarios (-tls: AUTH TLS)
  ftpbench mkdata [flags] DIR                                  create the data set in DIR
  ftpbench suite [flags]                                       start rftpd, run the standard suite (make bench)
  ftpbench compare [flags]                                     the suite against rftpd and its peers (make bench-compare)
  ftpbench ceiling -root DIR [-listen ADDR]                    the raw sendfile ceiling server
  ftpbench floor -root DIR [-listen ADDR]                      the noop floor server: one thread on raw epoll
  ftpbench reap PROGRAM [ARG...]                               run a forking server, reaping its orphans (compare's peers)

scenarios (-s, comma-separated, or all):
`

// run is main with its outputs passed in; it returns the exit status:
// 0 when every operation succeeded, 1 for failed operations or a failed
// run, 2 for a usage mistake.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "mkdata":
			return mkdata(args[1:], stdout, stderr)
		case "suite":
			return suite(args[1:], stdout, stderr)
		case "compare":
			return compare(args[1:], stdout, stderr)
		case "ceiling":
			return ceiling(args[1:], stdout, stderr)
		case "floor":
			return floor(args[1:], stdout, stderr)
		case "reap":
			return peers.Reap(args[1:], stderr)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runScenarios(ctx, args, stdout, stderr, os.Stderr)
}

// options are the command-line flags of a scenario run.
type options struct {
	url, putURL, scenarios, mode, jsonFile, label string
	cfg                                           bench.Config
	read, quiet                                   bool
	layout                                        bench.Layout
	tls                                           bool
	tlsOpt                                        bench.TLSOptions
	fillCache, fillDir                            string
	fill, fillMax                                 int64 // -fill-cache in bytes (0: none), and up to fillMax while memory stays free
}

func newFlags(stderr io.Writer) (*flag.FlagSet, *options) {
	o := &options{cfg: bench.DefaultConfig(), layout: bench.DefaultLayout}
	fs := flag.NewFlagSet("ftpbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		for _, s := range append(bench.Scenarios(), bench.NamedOnly()...) {
			fmt.Fprintf(stderr, "  %-10s %s\n", s.Name, s.Doc)
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	c := &o.cfg
	fs.StringVar(&o.url, "url", "", "server to measure: ftp://[user[:pass]@]host:port/[base folder] (no user: anonymous); ftps:// for implicit TLS")
	fs.BoolVar(&o.tls, "tls", false, "explicit FTPS: AUTH TLS, then PBSZ 0 and PROT P after login (protected data connections)")
	fs.BoolVar(&o.tlsOpt.Insecure, "tls-insecure", false, "accept any server certificate (self-signed ones)")
	fs.StringVar(&o.tlsOpt.CAFile, "tls-ca", "", "verify the server's certificate against the PEM roots in FILE (default: the system's)")
	fs.StringVar(&o.putURL, "put-url", "", "account for small-put and large-put (default: -url)")
	fs.StringVar(&o.scenarios, "s", "all", "scenarios to run, comma-separated, or all")
	fs.StringVar(&o.label, "label", "", "the server's name in reports (default: host:port)")
	fs.IntVar(&c.Concurrency, "c", c.Concurrency, "concurrent workers (sessions); idle: sessions opened in parallel")
	fs.DurationVar(&c.Duration, "d", c.Duration, "how long each scenario runs")
	fs.Int64Var(&c.Count, "n", 0, "stop each scenario after this many operations (0: -d only; alone, -d is at most 1h)")
	fs.Float64Var(&c.Rate, "rate", 0, "operations per second over all workers, paced (0: back to back)")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "bound of every dial, command and transfer")
	fs.StringVar(&o.mode, "mode", "epsv", "data connections: epsv, pasv or port")
	fs.IntVar(&c.ModeZ, "mode-z", 0, "MODE Z (deflate) at this level, 1-9, for every session: downloads and listings are inflated and counted as the file's bytes, uploads deflated (0: MODE S)")
	fs.IntVar(&c.Sources, "sources", c.Sources, "spread sockets over source addresses 127.0.0.1 … 127.0.0.N (loopback IPv4 targets)")
	fs.BoolVar(&o.read, "read", false, "read downloads with 1 MiB buffers instead of splicing them into /dev/null")
	fs.Int64Var(&c.SmallSize, "small-size", c.SmallSize, "small-put file size in bytes")
	fs.Int64Var(&c.LargeSize, "large-size", c.LargeSize, "large-put file size in bytes")
	fs.StringVar(&c.TempDir, "tmp", "", "folder for upload source files (default: the system's)")
	fs.StringVar(&o.fillCache, "fill-cache", "", "before the scenarios, fill the page cache with `SIZE` (e.g. 20GiB, or auto: MemTotal less a 32nd, more while memory stays free) of throwaway files, kept until the end")
	fs.StringVar(&o.fillDir, "fill-dir", "", "folder on a disk for -fill-cache's files (default: -tmp, else the system's temporary folder)")
	fs.IntVar(&c.Sessions, "sessions", c.Sessions, "idle: sessions to open and hold; slow-get: slow downloads, each in a session of its own")
	fs.IntVar(&c.Hold, "hold", 0, "noop, large-get: idle sessions held while it runs")
	fs.DurationVar(&c.HoldTime, "hold-time", c.HoldTime, "idle: how long the sessions are held before memory and NOOP are checked")
	fs.IntVar(&c.PID, "pid", 0, "the server's process: report its CPU time per operation, for idle its PSS per session, for slow-get its RSS, PSS and TCP sockets' memory per transfer (all summed over its descendants)")
	fs.Int64Var(&c.SlowRate, "slow-rate", c.SlowRate, "slow-get: bytes/s each client reads")
	fs.IntVar(&c.SlowRcvBuf, "slow-rcvbuf", c.SlowRcvBuf, "slow-get: SO_RCVBUF of each data connection, set before it connects (Linux doubles it); -1: not set, the kernel autotunes it")
	fs.StringVar(&o.jsonFile, "json", "", "also write the results as JSON to FILE")
	fs.BoolVar(&o.quiet, "q", false, "no progress line")
	l := &o.layout
	fs.StringVar(&l.SmallDir, "small-dir", l.SmallDir, "folder of small files 0000.bin …")
	fs.IntVar(&l.SmallFiles, "small-files", l.SmallFiles, "how many small files there are")
	fs.StringVar(&l.LargeFile, "large-file", l.LargeFile, "the large-get file")
	fs.StringVar(&l.ListDir, "list-dir", l.ListDir, "the folder list reads")
	fs.StringVar(&l.MixedDir, "mixed-dir", l.MixedDir, "the mixed scenario's tree (dNN/fNN.bin)")
	fs.StringVar(&l.SlowFile, "slow-file", l.SlowFile, "the file slow-get's clients read")
	return fs, o
}

// parseRun parses the flags of a scenario run into a Config.
func parseRun(args []string, stderr io.Writer) (*options, []bench.Scenario, error) {
	fs, o := newFlags(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.url == "" {
		return nil, nil, errors.New("-url is required")
	}
	t, err := bench.ParseTarget(o.url)
	if err != nil {
		return nil, nil, err
	}
	o.cfg.Target, o.cfg.PutTarget = t, t
	if o.putURL != "" {
		if o.cfg.PutTarget, err = bench.ParseTarget(o.putURL); err != nil {
			return nil, nil, err
		}
	}
	for _, tg := range []*bench.Target{&o.cfg.Target, &o.cfg.PutTarget} {
		if err := o.secure(tg); err != nil {
			return nil, nil, err
		}
	}
	if o.cfg.Mode, err = bench.ParseDataMode(o.mode); err != nil {
		return nil, nil, err
	}
	if o.cfg.ModeZ < 0 || o.cfg.ModeZ > 9 {
		return nil, nil, fmt.Errorf("-mode-z %d: want a level from 1 to 9, or 0 for MODE S", o.cfg.ModeZ)
	}
	scs, err := bench.ParseScenarios(o.scenarios)
	if err != nil {
		return nil, nil, err
	}
	if o.cfg.Concurrency < 1 || o.cfg.Duration <= 0 || o.cfg.Count < 0 || o.cfg.Timeout <= 0 || o.cfg.Sessions < 1 || o.cfg.Hold < 0 || o.cfg.Rate < 0 || o.cfg.SlowRate < 1 {
		return nil, nil, errors.New("-c, -d, -timeout, -sessions and -slow-rate must be positive; -n, -hold and -rate not negative")
	}
	if o.cfg.SlowRcvBuf == 0 || o.cfg.SlowRcvBuf < -1 {
		return nil, nil, errors.New("-slow-rcvbuf must be positive, or -1 for the kernel's autotuning")
	}
	if o.cfg.Duration > bench.MaxDuration {
		return nil, nil, fmt.Errorf("-d is at most %v", bench.MaxDuration)
	}
	if o.fillCache != "" {
		mem, err := bench.ReadMemInfo("")
		if err != nil {
			return nil, nil, fmt.Errorf("-fill-cache: %s", strings.TrimPrefix(err.Error(), "bench: "))
		}
		if o.fill, err = bench.ParseFillSize(o.fillCache, mem.Total); err != nil {
			return nil, nil, fmt.Errorf("-fill-cache: %s", strings.TrimPrefix(err.Error(), "bench: "))
		}
		if strings.TrimSpace(o.fillCache) == "auto" {
			o.fillMax = mem.Total
		}
	}
	if o.fillDir == "" {
		o.fillDir = o.cfg.TempDir
	}
	o.cfg.Splice = !o.read
	o.cfg.Layout = o.layout
	o.cfg.Label = o.label
	if o.cfg.Label == "" {
		o.cfg.Label = t.Addr
	}
	return o, scs, nil
}

// secure applies -tls, -tls-insecure and -tls-ca to t: -tls turns plain
// FTP into explicit FTPS; an ftps:// target stays implicit.
func (o *options) secure(t *bench.Target) error {
	if o.tls && t.TLS == bench.TLSOff {
		t.TLS = bench.TLSExplicit
	}
	if t.TLS == bench.TLSOff {
		if o.tlsOpt != (bench.TLSOptions{}) {
			return errors.New("-tls-insecure and -tls-ca need -tls or an ftps:// URL")
		}
		return nil
	}
	cfg, err := o.tlsOpt.Config(t.Addr)
	if err != nil {
		return err
	}
	t.TLSConfig = cfg
	return nil
}

func runScenarios(ctx context.Context, args []string, stdout, stderr io.Writer, tty *os.File) int {
	o, scs, err := parseRun(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v (see ftpbench -h)\n", err)
		return 2
	}
	cfg := o.cfg
	cfg.Log = stderr
	var line *bench.ProgressLine
	if !o.quiet {
		line = bench.NewProgressLine(tty)
	}
	if line != nil {
		cfg.Progress = line.Update
	}
	rep := &bench.Report{Started: time.Now().UTC(), Machine: bench.Machine(), Command: "ftpbench " + strings.Join(args, " ")}
	var fill *bench.CacheFill
	if o.fill > 0 {
		if fill, err = fillCache(ctx, o, cfg.Progress, stderr); err != nil {
			line.Clear()
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "ftpbench: interrupted")
			} else {
				fmt.Fprintf(stderr, "ftpbench: %v\n", strings.TrimPrefix(err.Error(), "bench: "))
			}
			return 1
		}
		line.Clear()
		defer func() {
			if err := fill.Remove(); err != nil {
				fmt.Fprintf(stderr, "ftpbench: %v\n", err)
				return
			}
			fmt.Fprintf(stderr, "ftpbench: removed the fill files in %s\n", fill.Dir)
		}()
	}
	failed := false
	var errs int64
	for _, s := range scs {
		if ctx.Err() != nil {
			break
		}
		r, err := bench.Run(ctx, s, cfg)
		line.Clear()
		if err != nil {
			fmt.Fprintf(stderr, "ftpbench: %s: %v\n", s.Name, strings.TrimPrefix(err.Error(), "bench: "))
			rep.Warnings = append(rep.Warnings, s.Name+": "+err.Error())
			failed = true
			continue
		}
		if fill != nil {
			var end *bench.MemInfo
			if m, err := bench.ReadMemInfo(""); err == nil {
				end = &m
			}
			r.Notes = append(r.Notes, fill.Notes(end)...)
		}
		rep.Results = append(rep.Results, r)
		errs += r.Errors
	}
	if len(rep.Results) > 0 {
		if err := bench.WriteTable(stdout, rep.Results); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
			return 1
		}
	}
	if o.jsonFile != "" {
		if err := bench.WriteJSON(o.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
			return 1
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ftpbench: interrupted")
		return 1
	}
	if errs > 0 {
		fmt.Fprintf(stderr, "ftpbench: %d operations failed (see the errors above)\n", errs)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// fillCache fills the page cache as -fill-cache and -fill-dir ask.
func fillCache(ctx context.Context, o *options, progress func(bench.Progress), stderr io.Writer) (*bench.CacheFill, error) {
	dir := o.fillDir
	if dir == "" {
		dir = os.TempDir()
	}
	fmt.Fprintf(stderr, "ftpbench: filling the page cache: writing %s of throwaway files in %s\n", bench.FormatBytes(float64(o.fill)), dir)
	fill, err := bench.FillCache(ctx, bench.FillOptions{Parent: dir, Size: o.fill, Max: o.fillMax, Progress: progress})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "ftpbench: page cache filled with %s in %.0f s: MemFree %s, Cached %s, Dirty %s\n", bench.FormatBytes(float64(fill.Size)),
		fill.Took.Seconds(), bench.FormatBytes(float64(fill.After.Free)), bench.FormatBytes(float64(fill.After.Cached)), bench.FormatBytes(float64(fill.After.Dirty)))
	return fill, nil
}

func mkdata(args []string, stdout, stderr io.Writer) int {
	d := bench.DefaultDataset
	fs := flag.NewFlagSet("ftpbench mkdata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&d.SmallSize, "small-size", d.SmallSize, "size of each small file")
	fs.IntVar(&d.SmallFiles, "small-files", d.SmallFiles, "number of small files")
	fs.Int64Var(&d.LargeSize, "large-size", d.LargeSize, "size of the large file")
	fs.IntVar(&d.ListEntries, "list-entries", d.ListEntries, "entries of the list folder")
	fs.Int64Var(&d.SlowSize, "slow-size", d.SlowSize, "size of slow-get's file, slow/<size>.bin (0: none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ftpbench mkdata [flags] DIR\n\ncreates small/, large/, list/, mixed/ and slow/ in DIR (nothing when DIR already holds that data set; a data set made before slow/ existed only gains it)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if d.SmallSize < 0 || d.SmallFiles < 1 || d.LargeSize < 1 || d.ListEntries < 0 || d.SlowSize < 0 {
		fmt.Fprintln(stderr, "ftpbench: mkdata: sizes and counts must be positive")
		return 2
	}
	if err := bench.MakeDataset(fs.Arg(0), d); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	if slow := d.Layout().SlowFile; slow != "" {
		fmt.Fprintf(stdout, "ftpbench: data set ready in %s (large file %s, slow-get file %s)\n", fs.Arg(0), d.Layout().LargeFile, slow)
	} else {
		fmt.Fprintf(stdout, "ftpbench: data set ready in %s (large file %s)\n", fs.Arg(0), d.Layout().LargeFile)
	}
	return 0
}
