// SIGHUP: re-read the config file and the files it names, and put in force what can change without a restart.
package main

import (
	"io"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/reactor"
)

// reloadable are the config keys SIGHUP puts in force. The others need a
// restart; a reload that finds them changed names them in its log line and
// leaves them as they were.
var reloadable = []string{
	"users", "anonymous", "banner", "log_level", "mode_z", "mode_z_level", "mode_z_max_level",
	"timeouts.login", "timeouts.idle", "timeouts.data", "timeouts.stall", "timeouts.rate_window",
	"timeouts.login_fail_delay", "timeouts.ban_window", "timeouts.ban_duration",
	"limits.max_sessions", "limits.max_per_ip", "limits.passive_per_ip", "limits.max_login_failures",
	"limits.ban_after", "limits.max_line", "limits.max_inbound", "limits.max_outbound", "limits.max_queued",
	"limits.max_transfers", "limits.min_rate",
	"limits.download_rate", "limits.upload_rate", "limits.download_rate_per_ip", "limits.upload_rate_per_ip",
	"limits.download_rate_per_session", "limits.upload_rate_per_session",
	"limits.hash_rate", "limits.hash_rate_per_session",
	"proxy.trusted", "proxy.header_timeout", "passive_host",
	"tls.handshake_timeout", "tls.max_handshakes",
}

// reloader reloads on SIGHUP. Only its goroutine calls reload.
type reloader struct {
	args  []string // the command line, whose flags still override the file
	cur   settings // in force
	srv   *reactor.Server
	d     *dtp.Server
	certs *dtp.TLS // nil: no TLS
	level *slog.LevelVar
	log   *slog.Logger

	mu  sync.Mutex
	acc *dtp.Accounts // in force
}

// close closes the accounts in force, at exit.
func (r *reloader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acc.Close()
}

// reload reads the config file (and the accounts file, the anonymous root
// and the TLS pair) again. Either everything that can change is put in
// force, or, when anything fails to load, nothing is and the old settings
// stay; either way one log line says what happened.
func (r *reloader) reload() {
	fail := func(err error) {
		r.log.Error("SIGHUP: reload failed; the old settings stay in force", "err", plainErr(err))
	}
	// A config file that is not a regular file (-config /dev/stdin, a
	// pipe) cannot be read again: the settings stay as they were, and the
	// files they name are read again.
	s, note := r.cur, ""
	if path := configArg(r.args); path != "" && !isRegular(path) {
		note = "the config file is not a regular file and was not read again"
	} else {
		var err error
		if s, err = parseArgs(r.args, io.Discard); err != nil {
			fail(err)
			return
		}
	}
	rcfg, pcfg, dcfg, err := s.configs()
	if err != nil {
		fail(err)
		return
	}
	acc := dtp.NewAccounts()
	if s.Users != "" {
		if acc, err = dtp.LoadAccounts(s.Users); err != nil {
			fail(err)
			return
		}
	}
	if s.Anonymous != "" {
		if err := acc.SetAnonymous(s.Anonymous); err != nil {
			acc.Close()
			fail(err)
			return
		}
	}
	if r.certs != nil {
		if err := r.certs.Reload(); err != nil {
			acc.Close()
			fail(err)
			return
		}
	}
	if err := r.d.SetAccounts(acc); err != nil { // fails only without TLS, before anything changed
		acc.Close()
		fail(err)
		return
	}
	r.mu.Lock()
	r.acc = acc
	r.mu.Unlock()
	r.d.SetMaxTransfers(dcfg.MaxTransfers)
	r.d.SetHashRates(dcfg.HashRate, dcfg.HashRatePerSession)
	r.d.SetProxyTrusted(dcfg.ProxyTrusted)
	r.d.SetRates(dcfg.Rates)
	r.srv.Reload(rcfg, pcfg)
	lv, _ := parseLogLevel(s.LogLevel)
	r.level.Set(lv)

	changed, restart := diffSettings(r.cur, s)
	// What needs a restart stays as it is, and keeps being reported.
	keep := r.cur
	r.cur = s
	for _, k := range restart {
		setSetting(&r.cur, keep, k)
	}
	attrs := []any{"changed", strings.Join(changed, " ")}
	if note != "" {
		attrs = append(attrs, "note", note)
	}
	if r.certs != nil {
		attrs = append(attrs, "cert", s.TLS.Cert)
	}
	if len(restart) > 0 {
		r.log.Warn("SIGHUP: reloaded; these settings changed but need a restart", append(attrs, "restart_needed", strings.Join(restart, " "))...)
		return
	}
	r.log.Info("SIGHUP: reloaded", attrs...)
}

// settingValues flattens s into its config keys and their values (a list
// of tables is one key).
func settingValues(s settings) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct && f.Type.String() != "time.Duration" {
				walk(fv, prefix+name+".")
				continue
			}
			out[prefix+name] = fv
		}
	}
	walk(reflect.ValueOf(s), "")
	return out
}

// diffSettings lists the keys whose values differ between old and new:
// those a reload puts in force, and those that need a restart.
func diffSettings(old, new settings) (changed, restart []string) {
	o, n := settingValues(old), settingValues(new)
	for k, v := range n {
		if reflect.DeepEqual(v.Interface(), o[k].Interface()) {
			continue
		}
		if isReloadable(k) {
			changed = append(changed, k)
		} else {
			restart = append(restart, k)
		}
	}
	slices.Sort(changed)
	slices.Sort(restart)
	return changed, restart
}

func isReloadable(key string) bool {
	return slices.Contains(reloadable, key)
}

// setSetting copies the value of key from src into dst.
func setSetting(dst *settings, src settings, key string) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src)
	for _, part := range strings.Split(key, ".") {
		d, s = fieldByTag(d, part), fieldByTag(s, part)
	}
	d.Set(s)
}

// fieldByTag is v's field whose toml tag is name.
func fieldByTag(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); n == name {
			return v.Field(i)
		}
	}
	panic("rftpd: no config key " + name)
}

// configArg is the -config flag's value in args ("" without one).
func configArg(args []string) string {
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// isRegular reports whether path names a regular file (following links).
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
