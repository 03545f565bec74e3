// Settings: defaults, the TOML config file and the command-line flags, merged into the packages' configs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
	"github.com/rftpd/rftpd/reactor"
)

// settings is everything rftpd can be told, in the shape of the config file.
// Flags override the file; the file overrides the defaults.
type settings struct {
	Listen       addrList `toml:"listen"`
	Anonymous    string   `toml:"anonymous"`
	Users        string   `toml:"users"`
	PassivePorts string   `toml:"passive_ports"`
	PublicHost   string   `toml:"public_host"`
	// PassiveShared: each port of passive_ports has one listener serving
	// every session at once.
	PassiveShared bool `toml:"passive_shared"`
	// ActivePort: the source port of active data connections: 0, the
	// control port minus one (20 beside 21, RFC 959); -1, any; else that port.
	ActivePort int `toml:"active_port"`
	// ModeZ offers MODE Z (zlib compression of data connections) in FEAT,
	// which lftp then uses by itself; ModeZLevel is the level sessions
	// start with, ModeZMaxLevel the highest OPTS MODE Z LEVEL may ask.
	ModeZ         bool   `toml:"mode_z"`
	ModeZLevel    int    `toml:"mode_z_level"`
	ModeZMaxLevel int    `toml:"mode_z_max_level"`
	Banner        string `toml:"banner"`
	LogLevel      string `toml:"log_level"`
	// LogFormat: "text" (key=value) or "json". LogFile: the main log's
	// file ("": stderr). Xferlog: the transfer log's file, in xferlog
	// format ("": none). SIGUSR1 reopens both files.
	LogFormat string `toml:"log_format"`
	LogFile   string `toml:"log_file"`
	Xferlog   string `toml:"xferlog"`
	// RunAs: "user" or "user:group" to drop to, when started as root, once the listeners are bound (privileges.go).
	RunAs string `toml:"run_as"`
	// AtomicUploads: STOR writes a temporary file renamed over the target on success.
	AtomicUploads bool `toml:"atomic_uploads"`
	// DurableUploads: a 226 means the upload's data and name are on stable storage (fdatasync, fsync of the folder).
	DurableUploads bool `toml:"durable_uploads"`
	// CleanStaleUploads: at start-up, remove the temporary files of uploads whose process died.
	CleanStaleUploads bool `toml:"clean_stale_uploads"`
	// StatCache: how long a file's stat answers SIZE, MDTM and MLST again
	// on the event loop; changes made through rftpd show at once, others
	// after this long; 0: off.
	StatCache time.Duration `toml:"stat_cache"`
	// AdminListen: host:port of the admin HTTP listener (/metrics, /healthz, /readyz); "": none.
	AdminListen string `toml:"admin_listen"`

	Timeouts struct {
		Login          time.Duration `toml:"login"`
		Idle           time.Duration `toml:"idle"`
		Data           time.Duration `toml:"data"`
		Stall          time.Duration `toml:"stall"`
		RateWindow     time.Duration `toml:"rate_window"`
		LoginFailDelay time.Duration `toml:"login_fail_delay"`
		BanWindow      time.Duration `toml:"ban_window"`
		BanDuration    time.Duration `toml:"ban_duration"`
		Shutdown       time.Duration `toml:"shutdown"`
	} `toml:"timeouts"`

	Limits struct {
		MaxSessions      int `toml:"max_sessions"`
		MaxPerIP         int `toml:"max_per_ip"`
		PassivePerIP     int `toml:"passive_per_ip"`
		MaxLoginFailures int `toml:"max_login_failures"`
		BanAfter         int `toml:"ban_after"`
		MaxLine          int `toml:"max_line"`
		MaxInbound       int `toml:"max_inbound"`
		MaxOutbound      int `toml:"max_outbound"`
		SendBuffer       int `toml:"send_buffer"`
		MaxQueued        int `toml:"max_queued"`
		FSWorkers        int `toml:"fs_workers"`
		FSQueue          int `toml:"fs_queue"`
		AuthWorkers      int `toml:"auth_workers"`
		AuthQueue        int `toml:"auth_queue"`
		MaxTransfers     int `toml:"max_transfers"`
		MinRate          int `toml:"min_rate"`
		DataUnsent       int `toml:"data_unsent"`
		SendThreads      int `toml:"send_threads"`
		StatListMax      int `toml:"stat_list_max"`
		ListSortMax      int `toml:"list_sort_max"`
		ListCache        int `toml:"list_cache"`
		IdleListeners    int `toml:"idle_listeners"`
		// Bandwidth limits in bytes per second (0: none), written as a
		// number or a string with K, M or G (1024-based): dtp.ParseRate.
		DownloadRate           dtp.Rate `toml:"download_rate"`
		UploadRate             dtp.Rate `toml:"upload_rate"`
		DownloadRatePerIP      dtp.Rate `toml:"download_rate_per_ip"`
		UploadRatePerIP        dtp.Rate `toml:"upload_rate_per_ip"`
		DownloadRatePerSession dtp.Rate `toml:"download_rate_per_session"`
		UploadRatePerSession   dtp.Rate `toml:"upload_rate_per_session"`
		// Checksums (HASH, XMD5, ...): hashes at once, hashes waiting,
		// and the bytes a second all hashes, and one session's, may read
		// (0: no cap).
		HashWorkers        int      `toml:"hash_workers"`
		HashQueue          int      `toml:"hash_queue"`
		HashRate           dtp.Rate `toml:"hash_rate"`
		HashRatePerSession dtp.Rate `toml:"hash_rate_per_session"`
	} `toml:"limits"`

	// More control listeners, each with settings of its own.
	Listeners []listenerSettings `toml:"listener"`

	// PROXY protocol from load balancers (for every listener that does not
	// say otherwise).
	Proxy struct {
		Mode          string        `toml:"mode"`           // off, optional, required
		Trusted       []string      `toml:"trusted"`        // the balancers' networks (CIDR or address)
		Data          bool          `toml:"data"`           // passive data connections come through the balancer too, with a header each
		HeaderTimeout time.Duration `toml:"header_timeout"` // how long a header may take
	} `toml:"proxy"`

	// The passive address for clients of given networks.
	PassiveHosts []struct {
		Networks []string `toml:"networks"`
		Host     string   `toml:"host"`
	} `toml:"passive_host"`

	// FTPS: with a certificate and key, AUTH TLS is offered and the
	// policies apply; without them, plain FTP only.
	TLS struct {
		Cert             string        `toml:"cert"`
		Key              string        `toml:"key"`
		ImplicitListen   string        `toml:"implicit_listen"`
		LoginAccounts    bool          `toml:"login_accounts"`
		LoginAnonymous   bool          `toml:"login_anonymous"`
		DataAccounts     bool          `toml:"data_accounts"`
		DataAnonymous    bool          `toml:"data_anonymous"`
		Reuse            bool          `toml:"reuse"`
		HandshakeTimeout time.Duration `toml:"handshake_timeout"`
		MaxHandshakes    int           `toml:"max_handshakes"`
	} `toml:"tls"`
}

// addrList is one listen address or several: `listen = "host:port"` or
// `listen = ["host:port", ...]` in the file, -listen once or more.
type addrList []string

// UnmarshalTOML takes a string or an array of strings.
func (l *addrList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*l = addrList{v}
		return nil
	case []any:
		out := make(addrList, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("listen: %v is not a \"host:port\" string", e)
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("listen: want \"host:port\" or a list of them, not %v", v)
}

// listenFlag is -listen: each use adds an address; the first replaces the
// default.
type listenFlag struct {
	list *addrList
	set  bool
}

func (f *listenFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f *listenFlag) Set(v string) error {
	if !f.set {
		*f.list, f.set = nil, true
	}
	*f.list = append(*f.list, v)
	return nil
}

// listenerSettings is a [[listener]] table.
type listenerSettings struct {
	Address     string `toml:"address"`
	ImplicitTLS bool   `toml:"implicit_tls"`
	Proxy       string `toml:"proxy"`       // "": [proxy] mode
	ProxyData   *bool  `toml:"proxy_data"`  // unset: [proxy] data
	PublicHost  string `toml:"public_host"` // "": the global public_host
}

// defaults returns the settings rftpd uses when nothing is said.
func defaults() settings {
	r, p, d := reactor.DefaultConfig(), protocol.DefaultConfig(), dtp.DefaultConfig()
	var s settings
	s.Listen = addrList{r.Listen}
	s.Proxy.Mode = "off"
	s.Proxy.HeaderTimeout = r.ProxyHeaderTimeout
	s.Banner = p.Banner
	s.LogLevel = "info"
	s.LogFormat = "text"
	// Off: lftp uses MODE Z whenever FEAT lists it, and on a fast link it
	// costs more than it saves (README "MODE Z" has the figures). Level 1
	// when on: on text it costs 60% of level 6's CPU.
	s.ModeZ, s.ModeZLevel, s.ModeZMaxLevel = false, 1, 9
	s.AtomicUploads = d.AtomicUploads
	s.DurableUploads = d.DurableUploads
	s.StatCache = d.StatCache
	s.CleanStaleUploads = d.CleanStaleUploads
	s.Timeouts.Login = p.LoginTimeout
	s.Timeouts.Idle = p.IdleTimeout
	s.Timeouts.Data = p.DataTimeout
	s.Timeouts.Stall = p.StallTimeout
	s.Timeouts.RateWindow = p.RateWindow
	s.Limits.MinRate = int(p.MinRate)
	s.Limits.DataUnsent = d.DataUnsent
	s.Limits.SendThreads = d.SendThreads
	s.Timeouts.LoginFailDelay = p.LoginFailDelay
	s.Timeouts.BanWindow = r.BanWindow
	s.Timeouts.BanDuration = r.BanDuration
	s.Timeouts.Shutdown = 30 * time.Second
	s.Limits.MaxSessions = r.MaxSessions
	s.Limits.MaxPerIP = r.MaxPerIP
	s.Limits.MaxLoginFailures = p.MaxLoginFailures
	s.Limits.BanAfter = r.BanAfter
	s.Limits.MaxLine = r.MaxLine
	s.Limits.MaxInbound = r.MaxInbound
	s.Limits.MaxOutbound = r.MaxOutbound
	s.Limits.SendBuffer = r.SendBuffer
	s.Limits.MaxQueued = p.MaxQueued
	s.Limits.FSWorkers = d.FSWorkers
	s.Limits.FSQueue = d.FSQueue
	s.Limits.AuthWorkers = d.AuthWorkers
	s.Limits.AuthQueue = d.AuthQueue
	s.Limits.MaxTransfers = d.MaxTransfers
	s.Limits.StatListMax = d.StatListMax
	s.Limits.ListSortMax = d.ListSortMax
	s.Limits.ListCache = d.ListCache
	s.Limits.IdleListeners = d.IdleListeners
	s.Limits.HashWorkers = d.HashWorkers
	s.Limits.HashQueue = d.HashQueue
	s.Limits.HashRate = dtp.Rate(d.HashRate)
	s.Limits.HashRatePerSession = dtp.Rate(d.HashRatePerSession)
	s.TLS.LoginAccounts = true
	s.TLS.DataAccounts = true
	s.TLS.Reuse = true
	s.TLS.HandshakeTimeout = r.HandshakeTimeout
	s.TLS.MaxHandshakes = r.MaxHandshakes
	return s
}

// durationsHaveUnits refuses a duration setting given as a bare number:
// the TOML decoder would take 60 as 60 nanoseconds. It walks t's fields
// (the settings struct) for time.Duration ones by their toml keys.
func durationsHaveUnits(md toml.MetaData, t reflect.Type, key []string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		k := append(slices.Clone(key), name)
		switch {
		case f.Type == reflect.TypeOf(time.Duration(0)):
			if md.IsDefined(k...) && md.Type(k...) != "String" {
				return fmt.Errorf("%s: a duration needs a unit, as in \"60s\" or \"5m\"", strings.Join(k, "."))
			}
		case f.Type.Kind() == reflect.Struct:
			if err := durationsHaveUnits(md, f.Type, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// usageError is a mistake in how rftpd was called (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errVersion: -version was given and answered.
var errVersion = errors.New("version printed")

// parseArgs builds the settings from defaults, the -config file and the
// flags; -h and -version print to stdout.
func parseArgs(args []string, stdout io.Writer) (settings, error) {
	s := defaults()
	fs := flag.NewFlagSet("rftpd", flag.ContinueOnError)
	// Parse errors are reported by the caller in one line; the full usage
	// is printed only for -h.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usage := func() {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "usage: rftpd [-config FILE] [-listen ADDR] [-anonymous DIR] [-users FILE] [-passive-ports LOW-HIGH] [-public-host HOST]\n             [-tls-cert FILE -tls-key FILE [-implicit-listen ADDR] [-tls-reuse=false]]\n       rftpd passwd < password   (prints a bcrypt hash for the accounts file)\n\n")
		fs.PrintDefaults()
		fmt.Fprint(stdout, helpTail())
	}
	config := fs.String("config", "", "TOML config file holding any of the settings below plus timeouts and limits")
	showVersion := fs.Bool("version", false, "print the version and exit")
	var listens addrList
	listen := &listenFlag{list: &listens}
	fs.Var(listen, "listen", "control connection address (host:port; repeat for several); use 0.0.0.0 or [::] to serve other hosts (default "+strings.Join(s.Listen, ",")+")")
	anon := fs.String("anonymous", "", "serve DIR read-only to anonymous users (USER anonymous or ftp, any password)")
	users := fs.String("users", "", "TOML accounts file ([[user]] tables: name, password (bcrypt), root, permissions)")
	pasv := fs.String("passive-ports", "", "passive data ports LOW-HIGH (default: an ephemeral port)")
	public := fs.String("public-host", "", "address announced in PASV/EPSV replies (default: the control connection's local address)")
	cert := fs.String("tls-cert", "", "PEM certificate (chain) for FTPS; with -tls-key it enables AUTH TLS and reloads on SIGHUP")
	key := fs.String("tls-key", "", "PEM private key of -tls-cert")
	implicit := fs.String("implicit-listen", "", "also listen for implicit FTPS (TLS from connect) on host:port, e.g. 0.0.0.0:990")
	logFormat := fs.String("log-format", s.LogFormat, "log lines as text (key=value) or json")
	logFile := fs.String("log-file", "", "write the log to FILE instead of stderr (SIGUSR1 reopens it)")
	xferlog := fs.String("xferlog", "", "write a transfer log in xferlog format to FILE (SIGUSR1 reopens it)")
	runAs := fs.String("run-as", "", "when started as root, switch to `USER[:GROUP]` (without GROUP, USER's primary group) once the listeners are bound")
	admin := fs.String("admin-listen", "", "serve Prometheus /metrics, /healthz and /readyz over HTTP on host:port, e.g. 127.0.0.1:9121 (default: off)")
	reuse := fs.Bool("tls-reuse", s.TLS.Reuse, "require data connections to resume the control connection's TLS session (Python's ftplib never does: set false for it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return s, err
		}
		return s, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return s, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *showVersion {
		fmt.Fprintln(stdout, versionString())
		return s, errVersion
	}
	if *config != "" {
		md, err := toml.DecodeFile(*config, &s)
		if err != nil {
			return s, fmt.Errorf("config %s: %v", *config, err)
		}
		if err := durationsHaveUnits(md, reflect.TypeOf(s), nil); err != nil {
			return s, fmt.Errorf("config %s: %v", *config, err)
		}
		// Paths in the file are the file's: relative ones are taken from
		// its folder, not from the working directory (under systemd, /).
		base := filepath.Dir(*config)
		for _, p := range []*string{&s.Users, &s.Anonymous, &s.TLS.Cert, &s.TLS.Key, &s.LogFile, &s.Xferlog} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(base, *p)
			}
		}
		if u := md.Undecoded(); len(u) > 0 {
			keys := make([]string, len(u))
			for i, k := range u {
				keys[i] = k.String()
			}
			return s, fmt.Errorf("config %s: unknown setting %s", *config, strings.Join(keys, ", "))
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			s.Listen = listens
		case "anonymous":
			s.Anonymous = *anon
		case "users":
			s.Users = *users
		case "passive-ports":
			s.PassivePorts = *pasv
		case "public-host":
			s.PublicHost = *public
		case "tls-cert":
			s.TLS.Cert = *cert
		case "tls-key":
			s.TLS.Key = *key
		case "implicit-listen":
			s.TLS.ImplicitListen = *implicit
		case "tls-reuse":
			s.TLS.Reuse = *reuse
		case "log-format":
			s.LogFormat = *logFormat
		case "log-file":
			s.LogFile = *logFile
		case "xferlog":
			s.Xferlog = *xferlog
		case "run-as":
			s.RunAs = *runAs
		case "admin-listen":
			s.AdminListen = *admin
		}
	})
	return s, nil
}

// configs turns settings into the packages' configs, checking every value.
func (s settings) configs() (reactor.Config, protocol.Config, dtp.Config, error) {
	r, p, d := reactor.DefaultConfig(), protocol.DefaultConfig(), dtp.DefaultConfig()
	if err := s.listeners(&r, &d); err != nil {
		return r, p, d, err
	}
	r.MaxLine = s.Limits.MaxLine
	r.MaxInbound = s.Limits.MaxInbound
	r.MaxOutbound = s.Limits.MaxOutbound
	r.SendBuffer = s.Limits.SendBuffer
	r.MaxSessions = s.Limits.MaxSessions
	r.MaxPerIP = s.Limits.MaxPerIP
	r.PassivePerIP = s.Limits.PassivePerIP
	r.BanAfter = s.Limits.BanAfter
	r.BanWindow = s.Timeouts.BanWindow
	r.BanDuration = s.Timeouts.BanDuration
	p.StallTimeout = s.Timeouts.Stall
	p.MinRate = int64(s.Limits.MinRate)
	p.RateWindow = s.Timeouts.RateWindow
	p.LoginFailDelay = s.Timeouts.LoginFailDelay
	p.MaxLoginFailures = s.Limits.MaxLoginFailures
	p.ModeZ, p.ModeZLevel, p.ModeZMaxLevel = s.ModeZ, s.ModeZLevel, s.ModeZMaxLevel
	if s.ModeZLevel < 1 || s.ModeZLevel > 9 || s.ModeZMaxLevel < 1 || s.ModeZMaxLevel > 9 {
		return r, p, d, fmt.Errorf("mode_z_level %d, mode_z_max_level %d: want 1 to 9", s.ModeZLevel, s.ModeZMaxLevel)
	}
	p.Banner = s.Banner
	p.AnonymousEnabled = s.Anonymous != ""
	p.LoginTimeout = s.Timeouts.Login
	p.IdleTimeout = s.Timeouts.Idle
	p.DataTimeout = s.Timeouts.Data
	p.MaxQueued = s.Limits.MaxQueued
	d.FSWorkers = s.Limits.FSWorkers
	d.FSQueue = s.Limits.FSQueue
	d.AuthWorkers = s.Limits.AuthWorkers
	d.AuthQueue = s.Limits.AuthQueue
	d.MaxTransfers = s.Limits.MaxTransfers
	d.DataUnsent = s.Limits.DataUnsent
	d.SendThreads = s.Limits.SendThreads
	d.StatListMax = s.Limits.StatListMax
	d.ListSortMax = s.Limits.ListSortMax
	d.ListCache = s.Limits.ListCache
	d.IdleListeners = s.Limits.IdleListeners
	d.HashWorkers = s.Limits.HashWorkers
	d.HashQueue = s.Limits.HashQueue
	d.HashRate = int64(s.Limits.HashRate)
	d.HashRatePerSession = int64(s.Limits.HashRatePerSession)
	d.AtomicUploads = s.AtomicUploads
	d.DurableUploads = s.DurableUploads
	d.StatCache = s.StatCache
	d.CleanStaleUploads = s.CleanStaleUploads
	d.Rates = s.rates()
	if s.ActivePort < -1 || s.ActivePort > 65535 {
		return r, p, d, fmt.Errorf("active_port %d: want 0 (the control port minus one), -1 (any) or a port", s.ActivePort)
	}
	d.ActivePort = s.ActivePort

	for _, c := range []struct {
		name string
		v    int
		min  int
	}{
		{"limits.max_line", r.MaxLine, 512},
		{"limits.max_inbound", r.MaxInbound, r.MaxLine},
		{"limits.max_outbound", r.MaxOutbound, 1024},
		{"limits.send_buffer", r.SendBuffer, 0},
		{"limits.max_queued", p.MaxQueued, 1},
		{"limits.fs_workers", d.FSWorkers, 1},
		{"limits.fs_queue", d.FSQueue, 1},
		{"limits.auth_workers", d.AuthWorkers, 1},
		{"limits.auth_queue", d.AuthQueue, 1},
		{"limits.max_transfers", d.MaxTransfers, 1},
		{"limits.min_rate", s.Limits.MinRate, 0},
		{"limits.data_unsent", d.DataUnsent, 0},
		{"limits.send_threads", d.SendThreads, 0},
		{"limits.stat_list_max", d.StatListMax, 1024},
		{"limits.list_sort_max", d.ListSortMax, 0},
		{"limits.list_cache", d.ListCache, 0},
		{"limits.idle_listeners", d.IdleListeners, 0},
		{"limits.hash_workers", d.HashWorkers, 1},
		{"limits.hash_queue", d.HashQueue, 0},
		{"limits.max_sessions", r.MaxSessions, 0},
		{"limits.max_per_ip", r.MaxPerIP, 0},
		{"limits.passive_per_ip", r.PassivePerIP, 0},
		{"limits.max_login_failures", p.MaxLoginFailures, 0},
		{"limits.ban_after", r.BanAfter, 0},
		{"tls.max_handshakes", s.TLS.MaxHandshakes, 1},
	} {
		if c.v < c.min {
			return r, p, d, fmt.Errorf("%s = %d: must be at least %d", c.name, c.v, c.min)
		}
	}
	if d.HashRate < 0 || d.HashRatePerSession < 0 {
		return r, p, d, fmt.Errorf("limits.hash_rate and limits.hash_rate_per_session must be at least 0 (0: no cap)")
	}
	for _, c := range []struct {
		name   string
		v      time.Duration
		zeroOK bool // 0 turns it off
	}{
		{"timeouts.login", p.LoginTimeout, false}, {"timeouts.idle", p.IdleTimeout, false},
		{"timeouts.data", p.DataTimeout, false}, {"timeouts.shutdown", s.Timeouts.Shutdown, false},
		{"timeouts.ban_window", r.BanWindow, false}, {"timeouts.ban_duration", r.BanDuration, false},
		{"timeouts.stall", p.StallTimeout, true}, {"timeouts.login_fail_delay", p.LoginFailDelay, true},
		{"tls.handshake_timeout", s.TLS.HandshakeTimeout, false},
		{"timeouts.rate_window", p.RateWindow, false},
		{"stat_cache", d.StatCache, true},
	} {
		if c.v < 0 || (c.v == 0 && !c.zeroOK) {
			return r, p, d, fmt.Errorf("%s = %v: must be positive", c.name, c.v)
		}
	}
	if s.PassivePorts != "" {
		lo, hi, err := parsePortRange(s.PassivePorts)
		if err != nil {
			return r, p, d, err
		}
		d.PassiveLow, d.PassiveHigh = lo, hi
		d.PassiveShared = s.PassiveShared
		if !s.PassiveShared {
			// One listener per session: the ports are what is shared.
			// Shared ports serve any number of sessions: the descriptor
			// budget bounds them.
			r.PassiveCapacity = int(hi) - int(lo) + 1
		}
	}
	if s.PublicHost != "" {
		a, err := resolvePublicHost(s.PublicHost)
		if err != nil {
			return r, p, d, err
		}
		d.PublicHost = a
	}
	if _, err := parseLogLevel(s.LogLevel); err != nil {
		return r, p, d, err
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		return r, p, d, fmt.Errorf("log_format %q: want text or json", s.LogFormat)
	}
	if (s.TLS.Cert == "") != (s.TLS.Key == "") {
		return r, p, d, errors.New("tls: a certificate needs its key and a key its certificate (-tls-cert and -tls-key)")
	}
	for _, l := range r.Listeners {
		if l.ImplicitTLS && s.TLS.Cert == "" {
			return r, p, d, fmt.Errorf("implicit TLS listener %s: implicit FTPS needs -tls-cert and -tls-key", l.Address)
		}
	}
	// The certificate itself is loaded by run (it reads files); here the
	// policies are set as if it were there.
	if s.TLS.Cert != "" {
		r.HandshakeTimeout = s.TLS.HandshakeTimeout
		r.MaxHandshakes = s.TLS.MaxHandshakes
		p.TLS = true
		p.TLSLoginAccounts = s.TLS.LoginAccounts
		p.TLSLoginAnonymous = s.TLS.LoginAnonymous
		d.TLSLoginAccounts = s.TLS.LoginAccounts
		d.TLSLoginAnonymous = s.TLS.LoginAnonymous
		d.TLSDataAccounts = s.TLS.DataAccounts
		d.TLSDataAnonymous = s.TLS.DataAnonymous
		d.TLSReuse = s.TLS.Reuse
		d.TLSHandshakeTimeout = s.TLS.HandshakeTimeout
	}
	return r, p, d, nil
}

// rates are the bandwidth limits of [limits] (checked by dtp.Rate as the
// file is read: never negative).
func (s settings) rates() dtp.Rates {
	l := s.Limits
	return dtp.Rates{
		Download: int64(l.DownloadRate), Upload: int64(l.UploadRate),
		DownloadPerIP: int64(l.DownloadRatePerIP), UploadPerIP: int64(l.UploadRatePerIP),
		DownloadPerSession: int64(l.DownloadRatePerSession), UploadPerSession: int64(l.UploadRatePerSession),
	}
}

// listeners turns listen, implicit_listen, [[listener]], [proxy] and
// [[passive_host]] into the reactor's listeners and the DTP's PROXY
// settings.
func (s settings) listeners(r *reactor.Config, d *dtp.Config) error {
	mode, err := reactor.ParseProxyMode(s.Proxy.Mode)
	if err != nil {
		return fmt.Errorf("proxy.mode: %v", err)
	}
	trusted, err := parseNetworks("proxy.trusted", s.Proxy.Trusted)
	if err != nil {
		return err
	}
	if s.Proxy.HeaderTimeout <= 0 {
		return fmt.Errorf("proxy.header_timeout = %v: must be positive", s.Proxy.HeaderTimeout)
	}
	r.Listeners = nil
	add := func(what string, l reactor.Listener) error {
		if _, _, err := net.SplitHostPort(l.Address); err != nil {
			return fmt.Errorf("%s %q: %v", what, l.Address, err)
		}
		r.Listeners = append(r.Listeners, l)
		return nil
	}
	if len(s.Listen) == 0 && len(s.Listeners) == 0 {
		return errors.New("listen: no address to listen on")
	}
	for _, a := range s.Listen {
		if err := add("listen", reactor.Listener{Address: a, Proxy: mode, ProxyData: s.Proxy.Data}); err != nil {
			return err
		}
	}
	if s.TLS.ImplicitListen != "" {
		l := reactor.Listener{Address: s.TLS.ImplicitListen, ImplicitTLS: true, Proxy: mode, ProxyData: s.Proxy.Data}
		if err := add("implicit_listen", l); err != nil {
			return err
		}
	}
	for i, ls := range s.Listeners {
		what := fmt.Sprintf("listener[%d].address", i)
		l := reactor.Listener{Address: ls.Address, ImplicitTLS: ls.ImplicitTLS, Proxy: mode, ProxyData: s.Proxy.Data}
		if ls.Proxy != "" {
			if l.Proxy, err = reactor.ParseProxyMode(ls.Proxy); err != nil {
				return fmt.Errorf("listener[%d].proxy: %v", i, err)
			}
		}
		if ls.ProxyData != nil {
			l.ProxyData = *ls.ProxyData
		}
		if ls.PublicHost != "" {
			if l.PublicHost, err = resolvePublicHost(ls.PublicHost); err != nil {
				return fmt.Errorf("listener[%d].public_host: %v", i, err)
			}
		}
		if err := add(what, l); err != nil {
			return err
		}
	}
	for _, l := range r.Listeners {
		if l.Proxy != reactor.ProxyOff && len(trusted) == 0 {
			return fmt.Errorf("listener %s takes PROXY headers (%s): proxy.trusted must name the balancers' networks", l.Address, l.Proxy)
		}
	}
	r.ProxyTrusted, d.ProxyTrusted = trusted, trusted
	r.ProxyHeaderTimeout, d.ProxyTimeout = s.Proxy.HeaderTimeout, s.Proxy.HeaderTimeout
	r.PassiveHosts = nil
	for i, ph := range s.PassiveHosts {
		nets, err := parseNetworks(fmt.Sprintf("passive_host[%d].networks", i), ph.Networks)
		if err != nil {
			return err
		}
		if len(nets) == 0 || ph.Host == "" {
			return fmt.Errorf("passive_host[%d]: needs networks and a host", i)
		}
		host, err := resolvePublicHost(ph.Host)
		if err != nil {
			return fmt.Errorf("passive_host[%d].host: %v", i, err)
		}
		r.PassiveHosts = append(r.PassiveHosts, reactor.PassiveHost{Networks: nets, Host: host})
	}
	return nil
}

// parseNetworks reads CIDR prefixes; a bare address is a network of one.
func parseNetworks(key string, in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range in {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither a network (CIDR) nor an address", key, v)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// parsePortRange reads "LOW-HIGH".
func parsePortRange(v string) (uint16, uint16, error) {
	lo, hi, ok := strings.Cut(v, "-")
	l, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	h, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if !ok || err1 != nil || err2 != nil || l < 1024 || h < l {
		return 0, 0, fmt.Errorf("passive ports %q: want LOW-HIGH with 1024 <= LOW <= HIGH <= 65535", v)
	}
	return uint16(l), uint16(h), nil
}

// resolvePublicHost takes an IPv4/IPv6 address or a host name, resolved once
// at start-up (never on the event loop).
func resolvePublicHost(h string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap(), nil
	}
	addrs, err := net.LookupIP(h)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("public host %q: cannot resolve: %v", h, err)
	}
	for _, ip := range addrs {
		if v4 := ip.To4(); v4 != nil {
			a, _ := netip.AddrFromSlice(v4)
			return a, nil
		}
	}
	a, _ := netip.AddrFromSlice(addrs[0])
	return a, nil
}

// cleanupLogger logs what the start-up clean-up of temporary upload files
// did in each root: at info level when it found any, else at debug level.
func cleanupLogger(logger *slog.Logger) func(dtp.CleanupReport) {
	return func(r dtp.CleanupReport) {
		level := slog.LevelDebug
		if r.Removed > 0 || r.Kept > 0 {
			level = slog.LevelInfo
		}
		if r.Err != nil {
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, "upload clean-up done",
			"root", r.Root, "removed", r.Removed, "kept_live", r.Kept, "folders", r.Dirs, "first_removed", r.Names, "err", r.Err)
	}
}

// parseLogLevel maps debug/info/warn/error to slog levels.
func parseLogLevel(v string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return l, fmt.Errorf("log_level %q: want debug, info, warn or error", v)
	}
	return l, nil
}
