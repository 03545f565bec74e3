// Scenarios: the configuration they share, the registry of names, and their results.
package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Layout names the data set's paths under the target's base folder. The
// defaults match MakeDataset.
type Layout struct {
	SmallDir   string // SmallFiles files named 0000.bin, 0001.bin, …
	SmallFiles int
	LargeFile  string // the large-get file
	ListDir    string // a folder of 1,000 entries
	MixedDir   string // MixedDirs folders d00… of MixedFiles files f00.bin… (see mixedSize)
	MixedDirs  int
	MixedFiles int
	SlowFile   string // the file slow-get's clients read slowly
}

// DefaultLayout is the layout MakeDataset creates.
var DefaultLayout = Layout{
	SmallDir:   "small",
	SmallFiles: 100,
	LargeFile:  "large/1GiB.bin",
	ListDir:    "list",
	MixedDir:   "mixed",
	MixedDirs:  10,
	MixedFiles: 20,
	SlowFile:   "slow/100MiB.bin",
}

// Config is what every scenario is run with. Zero values take the defaults
// of DefaultConfig.
type Config struct {
	Target      Target        // reads, listings, logins
	PutTarget   Target        // uploads: an account that may write
	Label       string        // the server's name in reports
	Concurrency int           // workers (sessions) doing operations
	Duration    time.Duration // how long a scenario runs (always bounded)
	Count       int64         // stop after this many operations (0: duration only)
	Rate        float64       // operations per second over all workers (0: back to back)
	Timeout     time.Duration // bound of every command, dial and transfer
	Mode        DataMode      // EPSV, PASV or PORT
	ModeZ       int           // MODE Z at this level (OPTS MODE Z LEVEL) for every session; 0: MODE S
	Sources     int           // spread sockets over 127.0.0.1 … 127.0.0.N (loopback targets)
	Splice      bool          // downloads spliced into /dev/null (else 1 MiB reads)
	SmallSize   int64         // small-put file size
	LargeSize   int64         // large-put file size
	TempDir     string        // where upload sources are created
	Layout      Layout
	// TLSConfig is the client configuration of suite steps marked TLS (see
	// RunSuite); nil skips them. Scenarios run alone take TLS from Target.
	TLSConfig *tls.Config

	// idle and noop
	Sessions int           // idle: sessions to open and hold
	Hold     int           // noop, large-get: idle sessions held while it runs
	HoldTime time.Duration // idle: how long the sessions are held before the NOOP check
	PID      int           // server process whose PSS (idle, slow-get) and CPU time (all) are reported (0: none)
	ProcRoot string        // "/proc"

	// slow-get: Sessions transfers, each read at SlowRate bytes/s through
	// a data connection whose SO_RCVBUF is SlowRcvBuf, set before it
	// connects (0: 64 KiB; negative: not set, the kernel autotunes it).
	SlowRate   int64
	SlowRcvBuf int

	// Pin places the server (PID and its descendants) and this process on
	// CPUs for the suite's single-stream steps (Step.Pin); the zero value
	// leaves them unpinned.
	Pin PinPlan
	// SharedCPU: the server and this process both run on CPU Pin.Server
	// alone (placement same, pinned): the run also reads that CPU's busy
	// time over the measured phase (Result.SharedCPU, cpubusy.go).
	SharedCPU bool

	// Progress, when set, receives a snapshot about once a second.
	Progress func(Progress)
	// Log receives notes (limits, set-up) as they happen; nil discards them.
	Log io.Writer
}

// DefaultConfig returns the defaults for fields left zero.
func DefaultConfig() Config {
	return Config{
		Label:       "server",
		Concurrency: 8,
		Duration:    10 * time.Second,
		Timeout:     30 * time.Second,
		Sources:     16,
		Splice:      true,
		SmallSize:   4096,
		LargeSize:   1 << 30,
		Layout:      DefaultLayout,
		Sessions:    1000,
		HoldTime:    2 * time.Second,
		ProcRoot:    "/proc",
		SlowRate:    64 << 10,
		SlowRcvBuf:  64 << 10,
	}
}

// MaxDuration bounds a run given only a count.
const MaxDuration = time.Hour

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Label == "" {
		c.Label = d.Label
	}
	if c.Concurrency <= 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Duration <= 0 {
		if c.Count > 0 {
			c.Duration = MaxDuration
		} else {
			c.Duration = d.Duration
		}
	}
	c.Duration = min(c.Duration, MaxDuration)
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.Sources <= 0 {
		c.Sources = 1
	}
	if c.SmallSize <= 0 {
		c.SmallSize = d.SmallSize
	}
	if c.LargeSize <= 0 {
		c.LargeSize = d.LargeSize
	}
	if c.Layout == (Layout{}) {
		c.Layout = d.Layout
	}
	if c.Sessions <= 0 {
		c.Sessions = d.Sessions
	}
	if c.HoldTime < 0 {
		c.HoldTime = 0
	}
	if c.ProcRoot == "" {
		c.ProcRoot = d.ProcRoot
	}
	if c.SlowRate <= 0 {
		c.SlowRate = d.SlowRate
	}
	if c.SlowRcvBuf == 0 {
		c.SlowRcvBuf = d.SlowRcvBuf
	}
	if c.PutTarget == (Target{}) {
		c.PutTarget = c.Target
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

func (c Config) logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "ftpbench: "+format+"\n", args...)
}

// Result is the outcome of one scenario against one server.
type Result struct {
	Scenario    string  `json:"scenario"`
	Step        string  `json:"step,omitempty"` // the suite row, when run in a suite
	TLS         string  `json:"tls,omitempty"`  // "explicit" or "implicit" FTPS; empty for plain FTP
	Server      string  `json:"server"`
	Concurrency int     `json:"concurrency"`
	Mode        string  `json:"mode,omitempty"`
	Seconds     float64 `json:"seconds"` // wall time of the measured phase
	Ops         int64   `json:"ops"`     // successful operations
	Unit        string  `json:"unit"`    // what an operation is: "sessions", "commands", "files", "listings", "ops"
	OpsPerSec   float64 `json:"ops_per_sec"`
	Bytes       int64   `json:"bytes,omitempty"`
	BytesPerSec float64 `json:"bytes_per_sec,omitempty"` // aggregate
	// StreamBytesPerSec is the median throughput of single transfers.
	StreamBytesPerSec float64 `json:"stream_bytes_per_sec,omitempty"`
	Latency           Summary `json:"latency_ns"` // per operation

	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Notes      []string         `json:"notes,omitempty"`
	Idle       *IdleResult      `json:"idle,omitempty"`
	Slow       *SlowResult      `json:"slow,omitempty"`
	Held       int              `json:"held,omitempty"` // noop: idle sessions held meanwhile
	Rate       float64          `json:"rate,omitempty"` // paced operations/s over all workers (0: back to back)
	// ServerCPU is the CPU time the server (with -pid: the process and its
	// descendants) used during the measured phase, in seconds; ServerCPUPerOp
	// divides it by Ops. On a machine the load generator shares, this is the
	// fairer measure of a server's cost than its rate.
	ServerCPU      float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPerOp float64 `json:"server_cpu_per_op_seconds,omitempty"`
	// ClientCPU is the load generator's own CPU time in the measured phase:
	// with N cores, no server lets it exceed N / (ClientCPU / Ops) operations/s.
	ClientCPU float64 `json:"client_cpu_seconds,omitempty"`
	// SharedCPU is the busy time of the one CPU the server and the load
	// generator shared in the measured phase (Config.SharedCPU), in
	// seconds: theirs and the kernel's work between them.
	SharedCPU   float64 `json:"shared_cpu_seconds,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`
	// Pair numbers a round of PairedStep: the results with the same Pair
	// ran back to back, one against rftpd and one against the ceiling.
	Pair int `json:"pair,omitempty"`
	// Round numbers a round of an interleaved step (Step.Interleave),
	// from 1 over the whole compare: the step's results with the same
	// Round ran back to back, one against each server and one against
	// ClientControl, a second rftpd.
	Round int `json:"round,omitempty"`
	// Placement says where the server and the load generator ran, for a
	// step that places them (Step.Pin): PinPlan's description, "same:
	// server and client on CPU 0", or "off: unpinned". Empty for steps
	// run unpinned by design.
	Placement string `json:"placement,omitempty"`
}

// Name returns the suite step's label, or the scenario's name.
func (r *Result) Name() string {
	if r.Step != "" {
		return r.Step
	}
	return r.Scenario
}

// IdleResult holds what only the idle scenario measures.
type IdleResult struct {
	Requested     int     `json:"requested"`
	Held          int     `json:"held"`
	Sources       int     `json:"sources"`
	OpenSeconds   float64 `json:"open_seconds"`
	PSSBefore     int64   `json:"pss_before,omitempty"`
	PSSAfter      int64   `json:"pss_after,omitempty"`
	Processes     int     `json:"processes,omitempty"`
	PSSPerSession float64 `json:"pss_per_session,omitempty"`
	NoopOK        int     `json:"noop_ok"`
	NoopFailed    int     `json:"noop_failed"`
	FileLimit     uint64  `json:"file_limit"`
	ServerFileLim int64   `json:"server_file_limit,omitempty"`
}

// Scenario is one named workload.
type Scenario struct {
	Name string
	Doc  string
	Run  func(ctx context.Context, cfg Config) (*Result, error)
}

var scenarios = []Scenario{
	{"idle", "open N logged-in sessions, hold them, report server PSS per session, then NOOP each", runIdle},
	{"login", "connect, USER, PASS, QUIT in a loop: sessions/s", runLogin},
	{"noop", "NOOP, PWD, SIZE back to back on logged-in sessions: commands/s", runNoop},
	{"small-get", "RETR of small files, a new data connection each: files/s", runSmallGet},
	{"small-put", "STOR of small files, a new data connection each: files/s", runSmallPut},
	{"large-get", "RETR of the large file: bytes/s per stream and aggregate", runLargeGet},
	{"large-put", "STOR of a large file sent with sendfile: bytes/s per stream and aggregate", runLargePut},
	{"list", "LIST and MLSD of a 1,000-entry folder: listings/s", runList},
	{"mixed", "a mirror-like mix of CWD, MLSD, SIZE, MDTM and RETR of mixed sizes: ops/s", runMixed},
	{"slow-get", "N slow clients each RETR the slow file at -slow-rate: server memory and kernel TCP memory per transfer", runSlowGet},
}

// Scenarios returns every scenario in the standard order.
func Scenarios() []Scenario { return slices.Clone(scenarios) }

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range append(Scenarios(), namedOnly...) {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// ParseScenarios parses a comma-separated list of names, or "all".
func ParseScenarios(list string) ([]Scenario, error) {
	if strings.TrimSpace(list) == "all" {
		return Scenarios(), nil
	}
	var out []Scenario
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		s, ok := Lookup(name)
		if !ok {
			var names []string
			for _, s := range append(Scenarios(), namedOnly...) {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("bench: unknown scenario %q (have %s, or all)", name, strings.Join(names, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no scenario given")
	}
	return out, nil
}

// Run runs one scenario with cfg and labels its result.
func Run(ctx context.Context, s Scenario, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	r, err := s.Run(ctx, cfg)
	if r != nil {
		r.Scenario = s.Name
		r.Server = cfg.Label
		if t := cfg.Target; t.TLS != TLSOff {
			r.TLS = t.TLS.String()
			r.Notes = append(r.Notes, fmt.Sprintf("FTPS (%s TLS), data connections protected (PROT P)", t.TLS))
		}
		if ctx.Err() != nil {
			r.Interrupted = true
		}
	}
	return r, err
}
