// rftpd itself, started from a built binary.
package peers

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// StartRftpd runs the rftpd binary bin on 127.0.0.1 with the data set served
// anonymously and a writable account rooted at o.Upload. extra flags are
// appended. Like the peers, it gets a passive port range outside the
// ephemeral one unless extra names -passive-ports: binding passive listeners
// to port 0 makes the kernel search past every port held in TIME_WAIT, which
// dominates small transfers (see bench/RESULTS.md). Its config file raises
// limits.max_transfers to BenchMaxTransfers and holds o's TLS, DataUnsent
// and InPlaceUploads settings, unless extra names a -config of its own, which then
// replaces it.
func StartRftpd(ctx context.Context, bin string, o Options, extra ...string) (*Server, error) {
	o = o.withDefaults()
	hash, err := rftpdHash(ctx, bin, o.Pass)
	if err != nil {
		return nil, err
	}
	users := filepath.Join(o.Work, "rftpd-users.toml")
	acc := fmt.Sprintf("[[user]]\nname = %q\npassword = %q\nroot = %q\npermissions = [\"read\", \"write\", \"delete\", \"rename\", \"mkdir\"]\n", o.User, hash, o.Upload)
	if err := os.WriteFile(users, []byte(acc), 0o600); err != nil {
		return nil, fmt.Errorf("peers: rftpd: %w", err)
	}
	args := []string{"-listen", "127.0.0.1:0", "-anonymous", o.Data, "-users", users}
	if !slices.Contains(extra, "-passive-ports") {
		lo, hi := passiveRange(3)
		args = append(args, "-passive-ports", fmt.Sprintf("%d-%d", lo, hi))
	}
	if !slices.Contains(extra, "-config") {
		conf := filepath.Join(o.Work, "rftpd.toml")
		if err := os.WriteFile(conf, []byte(rftpdConfig(o)), 0o600); err != nil {
			return nil, fmt.Errorf("peers: rftpd: %w", err)
		}
		args = append(args, "-config", conf)
	}
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s, err := start("rftpd", cmd)
	if err != nil {
		return nil, err
	}
	addrc, implc := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftp://"); ok {
				addrc <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftps://"); ok {
				a, _, _ = strings.Cut(a, " ")
				implc <- a
			}
			fmt.Fprintln(s.stderr, sc.Text())
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case s.Addr = <-addrc:
	case err := <-s.exited:
		return nil, fmt.Errorf("peers: rftpd exited before listening: %v\n%s", err, s.Stderr())
	case <-time.After(15 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("peers: rftpd did not print its listening line within 15s\n%s", s.Stderr())
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
	if slices.Contains(extra, "-implicit-listen") {
		// rftpd prints the implicit listener right after the plain one.
		select {
		case s.ImplicitAddr = <-implc:
		case <-time.After(5 * time.Second):
			s.Stop()
			return nil, fmt.Errorf("peers: rftpd printed no implicit FTPS address\n%s", s.Stderr())
		}
	}
	s.trackCPU()
	s.setURLs(o.User, o.Pass)
	s.Version = rftpdVersion(bin)
	s.TLS = o.TLSCert != ""
	return s, nil
}

// BenchMaxTransfers is rftpd's limits.max_transfers in the bench, raised
// from the default 1,024: transfers are shared fairly between client
// addresses, so once three quarters of them run each address is held to
// its part, and slow-get's 1,000 downloads from 16 source addresses (63
// each) would be refused beyond about 960 in all. The peers run with no
// caps; every other step runs far fewer transfers than either limit.
const BenchMaxTransfers = 4096

// rftpdConfig is the config file StartRftpd gives rftpd.
func rftpdConfig(o Options) string {
	text := ""
	if o.InPlaceUploads {
		text = "atomic_uploads = false\ndurable_uploads = false\n"
	}
	if o.NoStatCache {
		text += "stat_cache = \"0s\"\n"
	}
	text += fmt.Sprintf("[limits]\nmax_transfers = %d\n", BenchMaxTransfers)
	if o.DataUnsent > 0 {
		text += fmt.Sprintf("data_unsent = %d\n", o.DataUnsent)
	}
	if o.TLSCert != "" {
		text += fmt.Sprintf("[tls]\ncert = %q\nkey = %q\nlogin_accounts = false\ndata_accounts = false\n", o.TLSCert, o.TLSKey)
	}
	return text
}

// ControlPassivePorts is a passive range (for -passive-ports) for a second
// rftpd running beside one started with StartRftpd's default range, apart
// from every peer's and below the ephemeral ports.
func ControlPassivePorts() string {
	lo, hi := passiveRange(4)
	return fmt.Sprintf("%d-%d", lo, hi)
}

func rftpdHash(ctx context.Context, bin, pass string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "passwd")
	cmd.Stdin = strings.NewReader(pass + "\n")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("peers: rftpd passwd: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// rftpdVersion describes the binary: its VCS revision when it was built
// with one, else "dev".
func rftpdVersion(bin string) string {
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		return "dev"
	}
	rev, modified := "", false
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "build" {
			if v, ok := strings.CutPrefix(f[1], "vcs.revision="); ok && len(v) >= 12 {
				rev = v[:12]
			}
			if f[1] == "vcs.modified=true" {
				modified = true
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	if modified {
		rev += "+dirty"
	}
	return rev
}

// BuildRftpd builds github.com/rftpd/rftpd/cmd/rftpd into out with the go
// command (run from inside the module).
func BuildRftpd(ctx context.Context, out string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/rftpd/rftpd/cmd/rftpd").CombinedOutput()
	if err != nil {
		return fmt.Errorf("peers: go build ./cmd/rftpd: %v\n%s", err, b)
	}
	return nil
}
