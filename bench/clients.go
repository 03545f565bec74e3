// The client matrix: curl, lftp and wget (and ftpbench's own client) fetch and send one large file from each server in rotating rounds; the server's CPU per GiB.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Clients are the FTP clients the matrix drives, in the report's order.
// "ftpbench" is this program's own client (a large-get of one file, spliced
// into /dev/null, run as a process of its own like the others): the suite's
// large-get rows, in the matrix's rounds against the peers and the control.
var Clients = []string{"curl", "lftp", "wget", SelfClient}

// SelfClient is the matrix's name for ftpbench's own client.
const SelfClient = "ftpbench"

// Directions of a client run.
const (
	Download = "download" // RETR of ClientConfig.File into /dev/null
	Upload   = "upload"   // STOR of ClientConfig.Source
)

// ClientStep is the matrix's label for -steps: `ftpbench compare -steps
// clients` runs only the matrix.
const ClientStep = "clients"

// ClientControl is the server name of the second, identical rftpd the
// matrix runs beside the first: its figures over rftpd's show how fine a
// difference the rounds can resolve.
const ClientControl = "rftpd 2"

// ClientUploadName is the name every upload of the matrix stores, in the
// writable account's root; it is removed before and after each upload, so
// each STOR creates a new file.
const ClientUploadName = "ftpbench-clients.bin"

// CanUpload reports whether client sends a file in the matrix: wget
// cannot, and ftpbench's own uploads are the suite's large-put rows.
func CanUpload(client string) bool { return client != "wget" && client != SelfClient }

// clientPackage names the Debian package that installs client.
var clientPackage = map[string]string{"curl": "curl", "lftp": "lftp", "wget": "wget", SelfClient: ""}

// ClientMatrix is what the matrix step measured (Report.Clients).
type ClientMatrix struct {
	Servers  []string          `json:"servers"`            // columns: rftpd, ClientControl, the peers
	Clients  []string          `json:"clients"`            // rows, each with Download and (if it can) Upload
	Versions map[string]string `json:"versions,omitempty"` // client → version
	Size     int64             `json:"size"`               // bytes per transfer
	Rounds   int               `json:"rounds"`
	// Placement says where the servers and the clients ran (PinPlan's
	// description); PinNote, why not as asked.
	Placement string       `json:"placement,omitempty"`
	PinNote   string       `json:"pin_note,omitempty"`
	Runs      []*ClientRun `json:"runs"`
}

// ClientRun is one client moving the file once, against one server.
type ClientRun struct {
	Round     int    `json:"round"` // from 1
	Client    string `json:"client"`
	Direction string `json:"direction"`
	Server    string `json:"server"`
	Position  int    `json:"position"` // place in the round's order, from 0
	Bytes     int64  `json:"bytes"`    // what the client reported moving (an upload's stored size too)
	// Seconds is the client process's wall time: start, login, transfer,
	// logout and exit.
	Seconds float64 `json:"seconds"`
	// ServerCPU is the server's CPU time (process and descendants, reaped
	// session processes included) from just before the client started
	// until it exited and the server's process count was back to what it
	// was; 0 with CPUError set when it could not be read.
	ServerCPU float64 `json:"server_cpu_seconds"`
	// SharedCPU is the busy time of the CPU that server and client shared
	// (placement same) over the same span (cpubusy.go): the server's, the
	// client's and the kernel's work between them; 0 when they did not
	// share one or it could not be read.
	SharedCPU float64 `json:"shared_cpu_seconds,omitempty"`
	CPUError  string  `json:"cpu_error,omitempty"`
	Error     string  `json:"error,omitempty"` // the run failed: no figures
	Note      string  `json:"note,omitempty"`
}

// OK reports whether the run moved the file.
func (r *ClientRun) OK() bool { return r.Error == "" && r.Bytes > 0 && r.Seconds > 0 }

// CPUPerGiB is the server's CPU time in ms per GiB moved; false when the
// run failed or its CPU time is unknown.
func (r *ClientRun) CPUPerGiB() (float64, bool) {
	if !r.OK() || r.ServerCPU <= 0 {
		return 0, false
	}
	return r.ServerCPU * 1e3 / (float64(r.Bytes) / (1 << 30)), true
}

// SharedPerGiB is SharedCPU in milliseconds per GiB moved; false when
// the run failed or the shared CPU was not measured.
func (r *ClientRun) SharedPerGiB() (float64, bool) {
	if !r.OK() || r.SharedCPU <= 0 {
		return 0, false
	}
	return r.SharedCPU * 1e3 / (float64(r.Bytes) / (1 << 30)), true
}

// Rate is the bytes moved over the client's wall time (0 when it failed).
func (r *ClientRun) Rate() float64 {
	if !r.OK() {
		return 0
	}
	return float64(r.Bytes) / r.Seconds
}

// ClientTarget is a running server the matrix drives.
type ClientTarget struct {
	Name   string // "rftpd", ClientControl, "vsftpd", …
	URL    string // anonymous and read-only: ftp://127.0.0.1:PORT/
	PutURL string // the writable account: ftp://user:pass@127.0.0.1:PORT/
	PID    int    // whose CPU time (and descendants') is measured
	// Upload is the local folder that is PutURL's root: an upload is
	// checked there and removed.
	Upload string
}

// ClientConfig describes a matrix.
type ClientConfig struct {
	Targets []ClientTarget // rftpd first, then ClientControl, then the peers
	Clients []string
	Rounds  int
	File    string // remote path of the download, relative to URL: "large/1GiB.bin"
	Source  string // the local file to upload
	// Warm is the download's file on this machine, read before the first
	// round (as Source is) so that no run finds it out of the page cache.
	Warm    string
	Size    int64 // both files' size
	Timeout time.Duration
	// TempDir holds each client's working folder and lftp's transfer log.
	TempDir  string
	ProcRoot string // "/proc"
	// Settle bounds the wait, after a client exits, for the server's
	// process count to come back (forking servers reap session
	// processes then); 5 s when zero.
	Settle time.Duration
	// Pin places every target's tree on one CPU and starts each client on
	// another or the same (see Placement); the zero value pins nothing.
	Pin PinPlan
	// Self is the ftpbench binary SelfClient runs ("": this process's).
	Self string
	// Done, when set, is called after each run.
	Done func(*ClientRun)
}

// ClientOrder returns the order, as indexes into n servers, in which round
// (from 1) runs them: the rows of a Williams design, which over
// ClientCycle(n) rounds puts every server in every place equally often
// and runs every server straight after every other equally often, so that
// neither going first nor following a given server favours anyone. Row r
// is 0, 1, n-1, 2, n-2, … plus r (mod n); for odd n the second n rows
// are the first n reversed.
func ClientOrder(round, n int) []int {
	if n <= 0 {
		return nil
	}
	row := ((round-1)%ClientCycle(n) + ClientCycle(n)) % ClientCycle(n)
	reverse := row >= n
	row %= n
	out := make([]int, n)
	for j := range n {
		v := (j + 1) / 2 // 0, 1, 1, 2, 2, …: 1, 2, … upwards at odd j
		if j > 0 && j%2 == 0 {
			v = n - j/2 // n-1, n-2, … downwards at even j
		}
		out[j] = (v + row) % n
	}
	if reverse {
		slices.Reverse(out)
	}
	return out
}

// ClientCycle is the number of rounds after which ClientOrder repeats: n
// for an even number of servers, 2n for an odd one.
func ClientCycle(n int) int {
	if n%2 == 1 {
		return 2 * n
	}
	return n
}

// LookClients checks that every client is installed.
func LookClients(clients []string) error {
	for _, c := range clients {
		if _, ok := clientPackage[c]; !ok {
			return fmt.Errorf("bench: clients: unknown client %q (have %s)", c, strings.Join(Clients, ", "))
		}
		if c == SelfClient {
			continue // this program
		}
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("bench: clients: %s is not installed (apt-get install %s, or leave it out)", c, clientPackage[c])
		}
	}
	return nil
}

var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)*`)

// parseClientVersion returns the first version number on the first line
// of a client's --version output: "curl 7.88.1 (x86_64…" → "7.88.1".
func parseClientVersion(out string) string {
	first, _, _ := strings.Cut(out, "\n")
	return versionRE.FindString(first)
}

// ClientVersion runs `client --version` and returns its version, or "?".
func ClientVersion(ctx context.Context, client string) string {
	if client == SelfClient {
		return "this build"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, client, "--version").Output()
	if v := parseClientVersion(string(out)); err == nil && v != "" {
		return v
	}
	return "?"
}

// clientJob is one run's inputs.
type clientJob struct {
	client, direction string
	url               string // the remote file's full URL, credentials included
	source            string // upload: the local file
	log               string // lftp's transfer log; ftpbench's JSON report
	self              string // ftpbench: this program's binary
}

// lftpSafe refuses what lftp's command line would read as syntax.
func lftpSafe(s string) error {
	if strings.ContainsAny(s, " \t\r\n;&|\"'`\\") {
		return fmt.Errorf("bench: clients: %q cannot go into an lftp command", s)
	}
	return nil
}

// clientArgs returns the command that makes j.client move the file: a
// download into /dev/null, or an upload of j.source. Each ignores the
// user's rc files, retries nothing and reports the bytes it moved (curl on
// stdout, wget on stderr, lftp in j.log).
func clientArgs(j clientJob) ([]string, error) {
	up := j.direction == Upload
	if !up && j.direction != Download {
		return nil, fmt.Errorf("bench: clients: unknown direction %q", j.direction)
	}
	switch j.client {
	case "curl":
		if up {
			return []string{"curl", "-q", "-sS", "-T", j.source, "-w", "%{size_upload}", j.url}, nil
		}
		return []string{"curl", "-q", "-sS", "-o", "/dev/null", "-w", "%{size_download}", j.url}, nil
	case "wget":
		if up {
			return nil, errors.New("bench: clients: wget cannot upload over FTP")
		}
		return []string{"wget", "--no-config", "-nv", "--tries=1", "--timeout=60", "-O", "/dev/null", j.url}, nil
	case "lftp":
		u, err := url.Parse(j.url)
		if err != nil {
			return nil, fmt.Errorf("bench: clients: %w", err)
		}
		path := strings.TrimPrefix(u.Path, "/")
		u.Path = ""
		site := u.String()
		for _, s := range []string{site, path, j.source, j.log} {
			if err := lftpSafe(s); err != nil {
				return nil, err
			}
		}
		script := "set cmd:interactive false; set cmd:fail-exit true; set ftp:ssl-allow false; " +
			"set net:max-retries 1; set net:timeout 60; set xfer:clobber true; " +
			"set xfer:log true; set xfer:log-file " + j.log + "; open " + site + "; "
		if up {
			script += "put " + j.source + " -o " + path
		} else {
			script += "get " + path + " -o /dev/null"
		}
		return []string{"lftp", "--norc", "-c", script}, nil
	case SelfClient:
		if up {
			return nil, errors.New("bench: clients: ftpbench's uploads are the suite's large-put rows")
		}
		u, err := url.Parse(j.url)
		if err != nil {
			return nil, fmt.Errorf("bench: clients: %w", err)
		}
		file := strings.TrimPrefix(u.Path, "/")
		u.Path = "/"
		return []string{j.self, "-q", "-url", u.String(), "-s", "large-get", "-c", "1", "-n", "1", "-sources", "1",
			"-large-file", file, "-json", j.log}, nil
	}
	return nil, fmt.Errorf("bench: clients: unknown client %q", j.client)
}

var (
	wgetBytesRE = regexp.MustCompile(`\[(\d+)\] -> `)
	lftpRangeRE = regexp.MustCompile(`\s(\d+)-(\d+)\s`)
)

// clientBytes reads how many bytes a client says it moved from its
// output (curl), its messages (wget) or its transfer log (lftp).
func clientBytes(client, stdout, stderr, log string) (int64, error) {
	switch client {
	case "curl":
		return strconv.ParseInt(strings.TrimSpace(stdout), 10, 64)
	case "wget":
		m := wgetBytesRE.FindAllStringSubmatch(stderr, -1)
		if len(m) == 0 {
			return 0, fmt.Errorf("no byte count in %q", tail(stderr))
		}
		return strconv.ParseInt(m[len(m)-1][1], 10, 64)
	case SelfClient:
		var rep Report
		if err := json.Unmarshal([]byte(log), &rep); err != nil {
			return 0, fmt.Errorf("ftpbench's report %q: %w", tail(log), err)
		}
		if len(rep.Results) != 1 || rep.Results[0].Errors != 0 || rep.Results[0].Ops != 1 {
			return 0, fmt.Errorf("ftpbench's report holds no one clean download: %q", tail(log))
		}
		return rep.Results[0].Bytes, nil
	case "lftp":
		var n int64
		lines := 0
		for line := range strings.SplitSeq(log, "\n") {
			m := lftpRangeRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			lo, _ := strconv.ParseInt(m[1], 10, 64)
			hi, _ := strconv.ParseInt(m[2], 10, 64)
			n += hi - lo
			lines++
		}
		if lines == 0 {
			return 0, fmt.Errorf("no transfer in lftp's log %q", tail(log))
		}
		return n, nil
	}
	return 0, fmt.Errorf("unknown client %q", client)
}

// tail is the end of a client's output, for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = "…" + s[len(s)-300:]
	}
	return s
}

// fileURL joins a server's root URL and a path in it.
func fileURL(root, path string) (string, error) {
	u, err := url.Parse(root)
	if err != nil {
		return "", fmt.Errorf("bench: clients: %w", err)
	}
	u.Path = "/" + strings.TrimPrefix(path, "/")
	return u.String(), nil
}

// RunClientMatrix runs cfg.Rounds rounds. In each, for every client and
// direction in turn, it runs the client once against every target, back
// to back, in the order ClientOrder gives. A failed run is recorded with
// its error and the rounds go on; the error returned says how many
// failed. With cfg.Pin, every target's tree is pinned to its server CPU
// for the whole matrix (and given its affinity back at the end), and each
// client starts on its client CPU; when pinning fails the matrix runs
// unpinned and says why (ClientMatrix.PinNote).
func RunClientMatrix(ctx context.Context, cfg ClientConfig) (*ClientMatrix, error) {
	if cfg.Settle <= 0 {
		cfg.Settle = 5 * time.Second
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	m := &ClientMatrix{Clients: cfg.Clients, Size: cfg.Size, Rounds: cfg.Rounds, Versions: map[string]string{}}
	for _, t := range cfg.Targets {
		m.Servers = append(m.Servers, t.Name)
	}
	for _, c := range cfg.Clients {
		m.Versions[c] = ClientVersion(ctx, c)
	}
	if cfg.Pin.Active() {
		undo, err := pinTargets(cfg.ProcRoot, cfg.Targets, cfg.Pin.Server)
		if err != nil {
			cfg.Pin = PinPlan{Placement: PinOff}
			m.PinNote = fmt.Sprintf("placement asked, but pinning failed (%v): the matrix ran unpinned", err)
		}
		defer undo()
	} else {
		cfg.Pin = PinPlan{Placement: PinOff}
	}
	m.Placement = cfg.Pin.String()
	// Read once, the file is in the page cache for the first run too.
	for i, f := range []string{cfg.Source, cfg.Warm} {
		if f != "" && (i == 0 || f != cfg.Source) {
			if err := readAll(f); err != nil {
				return m, err
			}
		}
	}
	var failed int
	var first string
	for round := 1; round <= cfg.Rounds; round++ {
		order := ClientOrder(round, len(cfg.Targets))
		for _, client := range cfg.Clients {
			for _, dir := range []string{Download, Upload} {
				if dir == Upload && !CanUpload(client) {
					continue
				}
				for pos, i := range order {
					if ctx.Err() != nil {
						return m, ctx.Err()
					}
					r := runClient(ctx, cfg, cfg.Targets[i], client, dir)
					r.Round, r.Position = round, pos
					m.Runs = append(m.Runs, r)
					if r.Error != "" {
						if failed++; first == "" {
							first = fmt.Sprintf("round %d, %s %s, %s: %s", round, client, dir, r.Server, r.Error)
						}
					}
					if cfg.Done != nil {
						cfg.Done(r)
					}
				}
			}
		}
	}
	if failed > 0 {
		return m, fmt.Errorf("bench: clients: %d of %d runs failed; the first: %s", failed, len(m.Runs), first)
	}
	return m, nil
}

// runClient makes client move the file once to or from t and measures
// the server's CPU time meanwhile.
func runClient(ctx context.Context, cfg ClientConfig, t ClientTarget, client, dir string) *ClientRun {
	r := &ClientRun{Client: client, Direction: dir, Server: t.Name}
	fail := func(err error) *ClientRun {
		r.Error = strings.ReplaceAll(err.Error(), "\n", " ")
		return r
	}
	work, err := os.MkdirTemp(cfg.TempDir, "ftpbench-client-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(work)
	j := clientJob{client: client, direction: dir, log: filepath.Join(work, "xfer.log"), self: cfg.Self}
	if j.self == "" {
		if j.self, err = os.Executable(); err != nil {
			return fail(err)
		}
	}
	stored := ""
	if dir == Upload {
		j.source = cfg.Source
		if j.url, err = fileURL(t.PutURL, ClientUploadName); err != nil {
			return fail(err)
		}
		stored = filepath.Join(t.Upload, ClientUploadName)
		if err := os.Remove(stored); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(err)
		}
		defer os.Remove(stored)
	} else if j.url, err = fileURL(t.URL, cfg.File); err != nil {
		return fail(err)
	}
	args, err := clientArgs(j)
	if err != nil {
		return fail(err)
	}

	procs0, perr := Descendants(cfg.ProcRoot, t.PID)
	busy := func() time.Duration { return 0 }
	if cfg.Pin.Placement == PinSame {
		busy = busySince(cfg.ProcRoot, cfg.Pin.Server)
	}
	cpu0, cerr := CPUTime(cfg.ProcRoot, t.PID)
	cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, args[0], args[1:]...)
	cmd.Dir = work
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	var runErr error
	if cfg.Pin.Active() {
		runErr = StartPinned(cmd, cfg.Pin.Client)
	} else {
		runErr = cmd.Start()
	}
	if runErr == nil {
		runErr = cmd.Wait()
	}
	r.Seconds = time.Since(start).Seconds()
	if perr == nil {
		if !settle(cfg.ProcRoot, t.PID, len(procs0), cfg.Settle) {
			r.Note = fmt.Sprintf("the server still had more processes %v after the client exited", cfg.Settle)
		}
	}
	cpu1, cerr1 := CPUTime(cfg.ProcRoot, t.PID)
	r.SharedCPU = busy().Seconds()
	switch {
	case cerr != nil:
		r.CPUError = cerr.Error()
	case cerr1 != nil:
		r.CPUError = cerr1.Error()
	case cpu1 < cpu0:
		r.CPUError = "the server's CPU time went down (a session process left the tree unreaped)"
	default:
		r.ServerCPU = (cpu1 - cpu0).Seconds()
	}

	if runErr != nil {
		if cctx.Err() != nil && ctx.Err() == nil {
			runErr = fmt.Errorf("timed out after %v", cfg.Timeout)
		}
		return fail(fmt.Errorf("%s: %v: %s", client, runErr, tail(stderr.String()+stdout.String())))
	}
	log, _ := os.ReadFile(j.log)
	n, err := clientBytes(client, stdout.String(), stderr.String(), string(log))
	if err != nil {
		return fail(fmt.Errorf("%s: %w", client, err))
	}
	r.Bytes = n
	if n != cfg.Size {
		return fail(fmt.Errorf("%s reported %d bytes, want %d", client, n, cfg.Size))
	}
	if stored != "" {
		fi, err := os.Stat(stored)
		if err != nil {
			return fail(fmt.Errorf("the upload is not where expected: %w", err))
		}
		if fi.Size() != cfg.Size {
			return fail(fmt.Errorf("the server stored %d bytes, want %d", fi.Size(), cfg.Size))
		}
	}
	return r
}

// pinTargets pins every target's tree to cpu; undo gives each back its
// affinity (and is safe to call after an error: what was pinned is undone).
func pinTargets(procRoot string, targets []ClientTarget, cpu int) (undo func(), err error) {
	var undos []func() error
	undo = func() {
		for _, u := range undos {
			u()
		}
	}
	for _, t := range targets {
		u, err := PinTree(procRoot, t.PID, cpu)
		if err != nil {
			undo()
			undos = nil
			return undo, fmt.Errorf("%s: %w", t.Name, err)
		}
		undos = append(undos, u)
	}
	return undo, nil
}

// readAll reads file to its end.
func readAll(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("bench: clients: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		return fmt.Errorf("bench: clients: %w", err)
	}
	return nil
}

// settle waits until pid and its descendants are at most n processes (a
// forking server has reaped the session's), polling, for at most within.
func settle(procRoot string, pid, n int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		ps, err := Descendants(procRoot, pid)
		if err != nil || len(ps) <= n {
			return err == nil
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
