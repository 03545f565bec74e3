// The version rftpd reports, plain error messages, and the help text's reference part.
package main

import (
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is stamped by the build (-ldflags "-X main.version=..."; make
// build uses git describe). Empty: taken from the build information.
var version string

// versionString is what -version prints.
func versionString() string {
	v := version
	if v == "" {
		v = "devel"
		if info, ok := debug.ReadBuildInfo(); ok {
			if info.Main.Version != "" && info.Main.Version != "(devel)" {
				v = info.Main.Version // go install ...@version
			} else {
				var rev, dirty string
				for _, s := range info.Settings {
					switch s.Key {
					case "vcs.revision":
						rev = s.Value
					case "vcs.modified":
						if s.Value == "true" {
							dirty = "-dirty"
						}
					}
				}
				if len(rev) > 12 {
					rev = rev[:12]
				}
				if rev != "" {
					v = "devel-" + rev + dirty
				}
			}
		}
	}
	return fmt.Sprintf("rftpd %s (%s, %s/%s)", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// plainErr is err's message without the package prefixes ("dtp: ",
// "reactor: ") that name where it came from, not what went wrong.
func plainErr(err error) string {
	msg := err.Error()
	for {
		trimmed := msg
		for _, p := range []string{"dtp: ", "reactor: ", "protocol: ", "fair: "} {
			trimmed = strings.TrimPrefix(trimmed, p)
		}
		if trimmed == msg {
			return msg
		}
		msg = trimmed
	}
}

// configKeys lists every config file key, as dotted paths, for -h.
func configKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			ft := f.Type
			switch {
			case ft.Kind() == reflect.Struct && ft.String() != "time.Duration":
				walk(ft, prefix+name+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), prefix+name+"[].")
			default:
				keys = append(keys, prefix+name)
			}
		}
	}
	walk(reflect.TypeOf(settings{}), "")
	return keys
}

// helpTail is printed after the flags by -h.
func helpTail() string {
	var b strings.Builder
	b.WriteString("\nconfig file keys (TOML; README \"Config file\" has each one's default and meaning):\n")
	line := " "
	for _, k := range configKeys() {
		if len(line)+len(k)+1 > 100 {
			b.WriteString(line + "\n")
			line = " "
		}
		line += " " + k
	}
	b.WriteString(line + "\n")
	b.WriteString(`
signals:
  SIGTERM, SIGINT  stop accepting, answer 421 to idle sessions, let transfers finish (timeouts.shutdown), exit 0
  SIGHUP           re-read the config file, accounts, anonymous root and TLS pair; new sessions get them,
                   open ones keep theirs; a file that fails to load changes nothing (README "Reload")
  SIGUSR1          reopen log_file and xferlog (after logrotate moved them)

exit status:
  0  clean shutdown (also for -h and -version)
  1  a bad config, accounts file or root, a port in use, or an event loop that stopped
  2  a usage mistake (unknown flag, stray argument)
`)
	return b.String()
}
