// ftpbench compare: the standard suite against rftpd, vsftpd, pure-ftpd, ProFTPD and the sendfile ceiling; writes RESULTS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/bench"
	"github.com/rftpd/rftpd/bench/peers"
)

var allServers = []string{"rftpd", "vsftpd", "pure-ftpd", "proftpd", "ceiling"}

// forking peers run a process (or two) per session: their idle populations
// are capped so the machine (32,768 PIDs, 24 GiB) survives.
var forking = map[string]bool{"vsftpd": true, "pure-ftpd": true, "proftpd": true}

// tlsServers run the FTPS steps; the others skip them.
var tlsServers = map[string]bool{"rftpd": true, "vsftpd": true}

type compareFlags struct {
	suiteFlags
	servers, peersDir, out string
	runs, peerSessions     int
	cert, key              string // the FTPS steps' certificate
}

func compare(args []string, stdout, stderr io.Writer) int {
	var f compareFlags
	fs := flag.NewFlagSet("ftpbench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.StringVar(&f.servers, "servers", strings.Join(allServers, ","), "servers to compare, in order")
	fs.StringVar(&f.peersDir, "peers", "", "where bench/fetch-peers.sh unpacked the peers (default: CACHE/peers)")
	fs.StringVar(&f.out, "out", "bench/RESULTS.md", "the Markdown report to write")
	fs.IntVar(&f.runs, "runs", 3, "repetitions of the suite; the report shows medians")
	fs.IntVar(&f.peerSessions, "peer-sessions", 2000, "idle sessions at most for servers that fork per session")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ftpbench compare [flags]\n\nruns the standard suite against each server in turn, -runs times, and writes medians to -out")
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
	if fs.NArg() > 0 || f.runs < 1 || f.scale <= 0 || f.peerSessions < 1 {
		fs.Usage()
		return 2
	}
	if f.peersDir == "" {
		f.peersDir = filepath.Join(f.cache, "peers")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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
	steps, err := f.suiteSteps()
	if err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 2
	}
	if f.cert, f.key, err = f.makeCert(); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	started := time.Now().UTC()
	var results []*bench.Result
	versions := map[string]string{}
	var problems []string
	for run := 1; run <= f.runs && ctx.Err() == nil; run++ {
		for _, name := range servers {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(stderr, "ftpbench: run %d of %d: %s\n", run, f.runs, name)
			rs, ver, err := f.runServer(ctx, name, self, data, ds, steps, stderr, line)
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
	}
	if f.version != "" {
		versions["rftpd"] = f.version
	}
	bench.WriteTable(stdout, results)
	rep := &bench.Report{Started: started, Machine: bench.Machine(), Command: "ftpbench compare " + strings.Join(args, " "), Results: results, Warnings: problems}
	if f.jsonFile != "" {
		if err := bench.WriteJSON(f.jsonFile, rep); err != nil {
			fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		}
	}
	svg := f.svgFile
	if svg == "" {
		svg = strings.TrimSuffix(f.out, ".md") + ".svg"
	}
	if err := writeChart(svg, "FTP servers on loopback, medians of "+fmt.Sprint(f.runs)+" runs", servers, results); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	md := bench.CompareMarkdown(bench.CompareInput{
		Report: rep, Servers: servers, Versions: versions, Runs: f.runs, Steps: steps, Chart: filepath.Base(svg),
		PeerSessions: f.peerSessions, Scale: f.scale, LargeSize: ds.LargeSize, Cores: runtime.NumCPU(),
	})
	if err := os.WriteFile(f.out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(stderr, "ftpbench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "ftpbench: wrote %s and %s\n", f.out, svg)
	if ctx.Err() != nil || len(problems) > 0 {
		return 1
	}
	return 0
}

// runServer starts one server, runs the steps that apply to it and stops it.
func (f *compareFlags) runServer(ctx context.Context, name, self, data string, ds bench.Dataset, steps []bench.Step, stderr io.Writer, line *bench.ProgressLine) ([]*bench.Result, string, error) {
	work, err := os.MkdirTemp("", "ftpbench-"+name+"-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(work)
	upload := filepath.Join(f.cache, "upload-peers")
	if name == "rftpd" {
		upload = filepath.Join(f.cache, "upload-rftpd")
	}
	if err := emptyDir(upload); err != nil {
		return nil, "", err
	}
	o := peers.Options{Data: data, Upload: upload, Work: work, Log: stderr}
	if tlsServers[name] {
		o.TLSCert, o.TLSKey = f.cert, f.key
	}
	u := peers.Unpacked{Dir: f.peersDir}
	var s *peers.Server
	switch name {
	case "rftpd":
		s, err = peers.StartRftpd(ctx, f.rftpd, o)
	case "vsftpd":
		s, err = u.StartVsftpd(ctx, o)
	case "pure-ftpd":
		s, err = u.StartPureFTPd(ctx, o)
	case "proftpd":
		s, err = u.StartProFTPD(ctx, o)
	case "ceiling":
		s, err = peers.StartCeiling(ctx, self, o)
	}
	if err != nil {
		return nil, "", err
	}
	defer s.Stop()
	cfg, err := f.suiteConfig(s, ds, stderr, line)
	if err != nil {
		return nil, s.Version, err
	}
	var mine []bench.Step
	for _, st := range steps {
		if name == "ceiling" && st.Scenario != "large-get" {
			continue // the ceiling only sends files
		}
		if forking[name] && st.SingleProcess || st.TLS && !tlsServers[name] {
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
	rs, err := bench.RunSuite(ctx, mine, cfg)
	if serr := s.Stop(); serr != nil && err == nil && name != "rftpd" {
		// Peers may exit non-zero on SIGTERM; only rftpd must stop cleanly.
		serr = nil
	} else if serr != nil && err == nil {
		err = serr
	}
	return rs, s.Version, err
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
