// vsftpd, pure-ftpd and ProFTPD from Debian packages unpacked by bench/fetch-peers.sh, with equivalent loopback configs.
package peers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Accounts created by bench/fetch-peers.sh: the peers authenticate system
// users, so the writable account is a system user whose home is the peers'
// upload folder, and anonymous logins map to the "ftp" user whose home is
// the data set (pure-ftpd serves anonymous users from ~ftp).
const (
	SystemUser = "ftpbench"
	SystemPass = "bench-pass"
)

// Unpacked is where fetch-peers.sh put the packages: dir/NAME/usr/sbin/….
type Unpacked struct {
	Dir string
}

func (u Unpacked) bin(pkg, name string) (string, error) {
	p := filepath.Join(u.Dir, pkg, "usr", "sbin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("peers: %s: %w (run bench/fetch-peers.sh first)", name, err)
	}
	return p, nil
}

// Version reads the package version recorded by fetch-peers.sh.
func (u Unpacked) Version(pkg string) string {
	b, err := os.ReadFile(filepath.Join(u.Dir, pkg+".version"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// passiveRange returns a range of 2,000 passive ports for a peer, away from
// the ephemeral range (32768–60999) so listeners do not collide with
// outgoing connections.
func passiveRange(n int) (int, int) {
	lo := 20000 + n*2000
	return lo, lo + 1999
}

// pureRange is pure-ftpd's passive range: 6,000 ports (14000–19999), below
// the others. pure-ftpd caps its users at half its passive range, whatever
// -c says, and the held populations of the suite reach 2,000 sessions.
func pureRange() (int, int) { return 14000, 19999 }

// StartVsftpd runs vsftpd in the foreground (background=NO).
func (u Unpacked) StartVsftpd(ctx context.Context, o Options) (*Server, error) {
	o = o.withDefaults()
	bin, err := u.bin("vsftpd", "vsftpd")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	empty := filepath.Join(o.Work, "vsftpd-empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		return nil, err
	}
	lo, hi := passiveRange(0)
	conf := filepath.Join(o.Work, "vsftpd.conf")
	text := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=%d
background=NO
anonymous_enable=YES
anon_root=%s
no_anon_password=YES
anon_upload_enable=NO
anon_mkdir_write_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=%s
chroot_local_user=YES
allow_writeable_chroot=YES
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=%d
pasv_max_port=%d
port_enable=YES
connect_from_port_20=NO
max_clients=0
max_per_ip=0
use_sendfile=YES
seccomp_sandbox=NO
lock_upload_files=NO
secure_chroot_dir=%s
pam_service_name=ftpbench
tcp_wrappers=NO
userlist_enable=NO
xferlog_enable=NO
dirmessage_enable=NO
idle_session_timeout=600
data_connection_timeout=300
ftpd_banner=vsftpd ready.
`, port, o.Data, o.Upload, lo, hi, empty)
	if o.TLSCert != "" {
		// TLS optional for every login, as rftpd is run; session reuse
		// required on data connections (vsftpd's default).
		text += fmt.Sprintf(`ssl_enable=YES
rsa_cert_file=%s
rsa_private_key_file=%s
allow_anon_ssl=YES
force_anon_logins_ssl=NO
force_anon_data_ssl=NO
force_local_logins_ssl=NO
force_local_data_ssl=NO
require_ssl_reuse=YES
ssl_ciphers=HIGH
`, o.TLSCert, o.TLSKey)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	s, err := start("vsftpd", o.command(bin, conf))
	if err != nil {
		return nil, err
	}
	s, err = u.finish(ctx, s, port, "vsftpd", "vsftpd", o)
	if s != nil {
		s.TLS = o.TLSCert != ""
	}
	return s, err
}

// StartPureFTPd runs pure-ftpd with system accounts, anonymous read-only.
func (u Unpacked) StartPureFTPd(ctx context.Context, o Options) (*Server, error) {
	o = o.withDefaults()
	bin, err := u.bin("pure-ftpd", "pure-ftpd")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	lo, hi := pureRange()
	args := []string{
		"-S", "127.0.0.1," + strconv.Itoa(port),
		"-l", "unix", // system accounts (/etc/shadow)
		"-A",          // chroot everyone
		"-H",          // no reverse DNS
		"-i",          // anonymous may not upload
		"-c", "50000", // no connection cap worth the name
		"-C", "50000",
		"-p", fmt.Sprintf("%d:%d", lo, hi),
		"-P", "127.0.0.1",
	}
	s, err := start("pure-ftpd", o.command(bin, args...))
	if err != nil {
		return nil, err
	}
	return u.finish(ctx, s, port, "pure-ftpd", "pure-ftpd", o)
}

// StartProFTPD runs proftpd in the foreground (--nodaemon).
func (u Unpacked) StartProFTPD(ctx context.Context, o Options) (*Server, error) {
	o = o.withDefaults()
	bin, err := u.bin("proftpd-core", "proftpd")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	lo, hi := passiveRange(2)
	conf := filepath.Join(o.Work, "proftpd.conf")
	text := fmt.Sprintf(`ServerName "proftpd"
ServerType standalone
DefaultServer on
Port %d
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
Umask 022
PidFile %[2]s/proftpd.pid
ScoreboardFile %[2]s/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
MaxInstances 50000
MaxClients none
MaxClientsPerHost none
MaxLoginAttempts 100
TimeoutIdle 600
PassivePorts %d %d
MasqueradeAddress 127.0.0.1
UseSendfile on
RequireValidShell off
AuthOrder mod_auth_unix.c
<IfModule mod_delay.c>
  DelayEngine off
</IfModule>
<IfModule mod_ident.c>
  IdentLookups off
</IfModule>
DefaultRoot ~
AllowOverwrite on
<Anonymous %s>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  <Limit WRITE>
    DenyAll
  </Limit>
</Anonymous>
`, port, o.Work, lo, hi, o.Data)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	s, err := start("proftpd", o.command(bin, "--nodaemon", "--config", conf))
	if err != nil {
		return nil, err
	}
	return u.finish(ctx, s, port, "proftpd", "proftpd-core", o)
}

func (u Unpacked) finish(ctx context.Context, s *Server, port int, name, pkg string, o Options) (*Server, error) {
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	if err := s.waitGreeting(ctx, s.Addr, 15*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	s.trackCPU()
	s.setURLs(SystemUser, SystemPass)
	s.Version = u.Version(pkg)
	s.Notes = append(s.Notes, fmt.Sprintf("%s %s, Debian package, config in %s", name, s.Version, o.Work))
	return s, nil
}

// StartCeiling runs `ftpbench ceiling` (the binary self) over the data set.
func StartCeiling(ctx context.Context, self string, o Options) (*Server, error) {
	return startSelf(ctx, self, "ceiling", "sendfile", o)
}

// StartFloor runs `ftpbench floor` (the binary self) over the data set.
func StartFloor(ctx context.Context, self string, o Options) (*Server, error) {
	return startSelf(ctx, self, "floor", "epoll", o)
}

// startSelf runs `self kind -root DATA -listen ADDR`, one of ftpbench's
// own servers, and waits for its greeting.
func startSelf(ctx context.Context, self, kind, version string, o Options) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s, err := start(kind, exec.Command(self, kind, "-root", o.Data, "-listen", addr))
	if err != nil {
		return nil, err
	}
	s.Addr = addr
	if err := s.waitGreeting(ctx, addr, 15*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	s.trackCPU()
	s.setURLs("anonymous", "x")
	s.Version = version
	return s, nil
}
