//go:build linux

// The cluster test: two rftpd nodes behind a real HAProxy with PROXY v2, in network namespaces joined by veth pairs, driven by curl, lftp and ftplib from a client namespace, with both recipes of cmd/rftpd/deploy.
package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The cluster's addresses, inside its own namespaces only.
const (
	clusterClient = "10.77.1.2"
	clusterFront  = "10.77.1.1" // the balancer's address for clients
	clusterLB1    = "10.77.2.1" // the balancer towards node 1
	clusterNode1  = "10.77.2.2"
	clusterLB2    = "10.77.3.1" // the balancer towards node 2
	clusterNode2  = "10.77.3.2"
)

// cluster is the running topology:
//
//	client ns (10.77.1.2) ── veth ── lb ns (10.77.1.1, HAProxy) ─┬─ veth ── node 1 ns (10.77.2.2, rftpd)
//	                                                            └─ veth ── node 2 ns (10.77.3.2, rftpd)
//
// Both nodes serve one tree on the host's file system.
type cluster struct {
	client, lb string    // namespace names
	nodeNS     [2]string // the nodes' namespaces
	nodes      [2]*proc
	writer     string // the writer's root, shared by the nodes
	users      string // the accounts file
	pasv       [2]string
	tree       string // the reader's root (the fixture tree)
	haproxy    *exec.Cmd
	haLog      *syncBuffer
	haDone     chan struct{}
}

// sh runs a command, failing the test on error.
func sh(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newClusterNet makes the namespaces and links; the test's clean-up
// deletes them (and with them every link and address).
func newClusterNet(t *testing.T) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the cluster test makes network namespaces, which needs root")
	}
	needTool(t, "ip", "iproute2")
	tag := fmt.Sprintf("%04x", rand.IntN(1<<16))
	c := &cluster{client: "rfc" + tag + "c", lb: "rfc" + tag + "l", nodeNS: [2]string{"rfc" + tag + "1", "rfc" + tag + "2"}}
	for _, ns := range []string{c.client, c.lb, c.nodeNS[0], c.nodeNS[1]} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	link := func(name, nsA, addrA, nsB, addrB string) {
		a, b := "v"+tag+name+"a", "v"+tag+name+"b"
		sh(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
		sh(t, "ip", "link", "set", a, "netns", nsA)
		sh(t, "ip", "link", "set", b, "netns", nsB)
		sh(t, "ip", "-n", nsA, "addr", "add", addrA+"/24", "dev", a)
		sh(t, "ip", "-n", nsB, "addr", "add", addrB+"/24", "dev", b)
		sh(t, "ip", "-n", nsA, "link", "set", a, "up")
		sh(t, "ip", "-n", nsB, "link", "set", b, "up")
	}
	link("c", c.client, clusterClient, c.lb, clusterFront)
	link("1", c.nodeNS[0], clusterNode1, c.lb, clusterLB1)
	link("2", c.nodeNS[1], clusterNode2, c.lb, clusterLB2)
	return c
}

// newCluster makes the network and starts both nodes, serving the
// fixture tree to "reader" and one shared folder to "writer", with the
// passive ranges given.
func newCluster(t *testing.T, pasv1, pasv2 string) *cluster {
	t.Helper()
	c := newClusterNet(t)
	c.tree, c.writer = fixtureTree(t), t.TempDir()
	users := writeAccounts(t, []account{
		{name: "writer", pass: writerPass, root: c.writer, perms: []string{"read", "write", "delete", "rename", "mkdir"}},
		{name: "reader", pass: readerPass, root: c.tree},
	})
	c.users, c.pasv = users, [2]string{pasv1, pasv2}
	c.nodes[0] = c.startNode(t, 0, users, pasv1)
	c.nodes[1] = c.startNode(t, 1, users, pasv2)
	return c
}

// startNode runs rftpd in node i's namespace with the cluster's settings
// and passive range pasv.
func (c *cluster) startNode(t *testing.T, i int, users, pasv string) *proc {
	t.Helper()
	addr := []string{clusterNode1, clusterNode2}[i]
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	body := fmt.Sprintf(`users = %q
passive_ports = %q
[proxy]
mode = "required"
trusted = [%q, %q]
data = true
[tls]
cert = %q
key = %q
# plain and FTPS sessions both (FTPS data connections must still resume
# the control connection's TLS session)
login_accounts = false
data_accounts = false
`, users, pasv, clusterLB1, clusterLB2, certFile, mustAbs("testdata/tls/key.pem"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcUnder(t, []string{"ip", "netns", "exec", c.nodeNS[i]}, "-config", cfg, "-listen", addr+":2121")
	if want := addr + ":2121"; p.addr != want {
		t.Fatalf("node %d listens on %s, want %s", i+1, p.addr, want)
	}
	return p
}

// startHAProxy runs HAProxy in the balancer's namespace with one of the
// shipped configurations and env, and waits until both nodes are up.
func (c *cluster) startHAProxy(t *testing.T, config string, env []string) {
	t.Helper()
	bin := needTool(t, "haproxy", "haproxy")
	cmd := exec.Command("ip", "netns", "exec", c.lb, bin, "-db", "-f", filepath.Join("deploy", config))
	cmd.Env = append(os.Environ(), env...)
	c.haLog = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = c.haLog, c.haLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.haproxy, c.haDone = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.haDone) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.haDone
		if t.Failed() {
			t.Logf("haproxy:\n%s", c.haLog.String())
		}
	})
	// Up: a session through the balancer is greeted.
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := c.curl(t, t.TempDir(), "--max-time", "5", "ftp://reader:"+readerPass+"@"+clusterFront+"/"+fHello)
		if r.code == 0 {
			return
		}
		select {
		case <-c.haDone:
			t.Fatalf("haproxy exited:\n%s", c.haLog.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session through haproxy: %s\nhaproxy:\n%s", r, c.haLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// inClient runs a program in the client's namespace.
func (c *cluster) inClient(t *testing.T, dir, stdin string, env []string, prog string, args ...string) toolResult {
	t.Helper()
	return runToolEnv(t, dir, stdin, env, "ip", append([]string{"netns", "exec", c.client, prog}, args...)...)
}

func (c *cluster) curl(t *testing.T, dir string, args ...string) toolResult {
	t.Helper()
	return c.inClient(t, dir, "", nil, needTool(t, "curl", "curl"), append(slices.Clone(curlArgs), args...)...)
}

// pasvPorts are the ports of the 227/229 replies curl -v logged.
var pasvPort = regexp.MustCompile(`< 22[79] Entering (?:Extended )?Passive Mode \((?:\d+,\d+,\d+,\d+,(\d+),(\d+)|\|\|\|(\d+)\|)\)`)

// dataPorts returns the passive ports a curl run was given.
func dataPorts(stderr string) []int {
	var ports []int
	for _, m := range pasvPort.FindAllStringSubmatch(stderr, -1) {
		if m[3] != "" {
			p, _ := strconv.Atoi(m[3])
			ports = append(ports, p)
			continue
		}
		hi, _ := strconv.Atoi(m[1])
		lo, _ := strconv.Atoi(m[2])
		ports = append(ports, hi*256+lo)
	}
	return ports
}

// TestClusterSlices: recipe 1 of cmd/rftpd/deploy (haproxy-slices.cfg):
// each node has its own passive ports. curl, lftp and ftplib list,
// download and upload through the balancer, with PASV and EPSV, plain and
// (curl, lftp) FTPS with session reuse required; an upload through one
// node is whole through the other; a node killed with SIGKILL is taken out
// and new sessions go to the other, with nothing stored damaged.
func TestClusterSlices(t *testing.T) {
	c := newCluster(t, "30000-30009", "30010-30019")
	c.startHAProxy(t, "haproxy-slices.cfg", []string{
		"RFTPD_FRONT=" + clusterFront, "RFTPD_PORT=21",
		"RFTPD_NODE1=" + clusterNode1, "RFTPD_NODE2=" + clusterNode2,
		"RFTPD_NODE1_PASSIVE=30000-30009", "RFTPD_NODE2_PASSIVE=30010-30019",
	})
	node := func(port int) int { // which node a passive port is of
		if port >= 30000 && port <= 30009 {
			return 1
		}
		if port >= 30010 && port <= 30019 {
			return 2
		}
		return 0
	}
	c.clientMatrix(t, node)

	// An upload through one node, downloaded whole through the other
	// (roundrobin alternates the sessions).
	dir := t.TempDir()
	data := randomBytes(201, 5<<20+11)
	putFile(t, filepath.Join(dir, "up.bin"), string(data))
	up := c.curl(t, dir, "-T", "up.bin", "ftp://writer:"+writerPass+"@"+clusterFront+"/cross.bin")
	if up.code != 0 {
		t.Fatalf("upload: %s", up)
	}
	upNode := node(dataPorts(up.stderr)[0])
	seen := map[int]bool{}
	for range 4 {
		r := c.curl(t, dir, "-o", "cross.bin", "ftp://writer:"+writerPass+"@"+clusterFront+"/cross.bin")
		if r.code != 0 {
			t.Fatalf("download: %s", r)
		}
		checkFile(t, filepath.Join(dir, "cross.bin"), data)
		seen[node(dataPorts(r.stderr)[0])] = true
	}
	if other := 3 - upNode; !seen[other] {
		t.Errorf("uploaded through node %d, never downloaded through node %d: %v", upNode, other, seen)
	}

	c.liveUploadSurvives(t, node)

	// Node 1 killed: haproxy takes it out, new sessions go to node 2, and
	// what was stored is whole.
	if err := c.nodes[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.nodes[0].stopOnce.Do(func() { <-c.nodes[0].exited }) // killed on purpose: no status to check
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(c.haLog.String(), "ftp_nodes/n1 is DOWN") {
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not take node 1 out:\n%s", c.haLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range 4 {
		out := fmt.Sprintf("after-%d.bin", i)
		r := c.curl(t, dir, "-o", out, "ftp://writer:"+writerPass+"@"+clusterFront+"/cross.bin")
		if r.code != 0 {
			t.Fatalf("session %d after node 1 died: %s", i, r)
		}
		if n := node(dataPorts(r.stderr)[0]); n != 2 {
			t.Errorf("session %d after node 1 died went to node %d", i, n)
		}
		checkFile(t, filepath.Join(dir, out), data)
	}
	checkFile(t, filepath.Join(c.writer, "cross.bin"), data)
	entries, err := os.ReadDir(c.writer)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".rftpd-upload.") {
			t.Errorf("a temporary upload file was left: %s", e.Name())
		}
	}
}

// TestClusterSource: recipe 2 (haproxy-source.cfg): one passive range on
// both nodes, control and data balanced by the client's address.
func TestClusterSource(t *testing.T) {
	c := newCluster(t, "30000-30019", "30000-30019")
	c.startHAProxy(t, "haproxy-source.cfg", []string{
		"RFTPD_FRONT=" + clusterFront, "RFTPD_PORT=21",
		"RFTPD_NODE1=" + clusterNode1, "RFTPD_NODE2=" + clusterNode2,
		"RFTPD_PASSIVE=30000-30019",
	})
	c.clientMatrix(t, nil)
}

// clientMatrix runs every client × data mode × TLS cell through the
// balancer: a listing, downloads and an upload checked byte for byte.
// node, when set, names the node of a passive port, to check that the
// sessions reached both.
func (c *cluster) clientMatrix(t *testing.T, node func(int) int) {
	seen := map[int]bool{}
	base := "ftp://%s@" + clusterFront + "/%s"
	for _, tlsOn := range []bool{false, true} {
		for _, mode := range []string{"EPSV", "PASV"} {
			name := mode
			if tlsOn {
				name += "-FTPS"
			}
			t.Run("curl-"+name, func(t *testing.T) {
				dir := t.TempDir()
				args := []string{}
				if tlsOn {
					args = append(args, "--ssl-reqd", "-k")
				}
				if mode == "PASV" {
					args = append(args, "--ftp-pasv", "--disable-epsv")
				}
				r := c.curl(t, dir, append(slices.Clone(args), "-o", "big.bin", fmt.Sprintf(base, "reader:"+readerPass, fBig))...)
				if r.code != 0 {
					t.Fatalf("download: %s", r)
				}
				checkFile(t, filepath.Join(dir, "big.bin"), fixtureFiles[fBig])
				cmds := sentCommands(r.stderr)
				if !slices.Contains(cmds, mode) || tlsOn != slices.Contains(cmds, "AUTH") {
					t.Errorf("curl sent %q", cmds)
				}
				if node != nil {
					for _, p := range dataPorts(r.stderr) {
						seen[node(p)] = true
					}
				}
				r = c.curl(t, dir, append(slices.Clone(args), fmt.Sprintf(base, "reader:"+readerPass, "sub/"))...)
				if r.code != 0 || !strings.Contains(r.stdout, "file with spaces.txt") {
					t.Fatalf("listing: %s", r)
				}
				data := randomBytes(uint64(len(name)), 3<<20+5)
				putFile(t, filepath.Join(dir, "up.bin"), string(data))
				target := "curl-" + name + ".bin"
				if r := c.curl(t, dir, append(slices.Clone(args), "-T", "up.bin", fmt.Sprintf(base, "writer:"+writerPass, target))...); r.code != 0 {
					t.Fatalf("upload: %s", r)
				}
				checkFile(t, filepath.Join(c.writer, target), data)
			})
			t.Run("lftp-"+name, func(t *testing.T) {
				dir := t.TempDir()
				settings := []string{"debug -o " + filepath.Join(dir, lftpDebug) + " 9",
					"set net:max-retries 1", "set net:timeout 10", "set cmd:fail-exit yes", "set xfer:clobber yes",
					"set ftp:passive-mode on", "set ftp:prefer-epsv " + map[bool]string{true: "yes", false: "no"}[mode == "EPSV"],
					"set ftp:ssl-allow " + map[bool]string{true: "yes", false: "no"}[tlsOn]}
				if tlsOn {
					settings = append(settings, "set ftp:ssl-force yes", "set ftp:ssl-protect-data yes", "set ssl:verify-certificate no")
				}
				data := randomBytes(uint64(len(name))+50, 2<<20+9)
				putFile(t, filepath.Join(dir, "up.bin"), string(data))
				target := "lftp-" + name + ".bin"
				script := strings.Join(settings, "; ") + fmt.Sprintf("; open -u writer,%s ftp://%s; put up.bin -o %s; cls -1 /", writerPass, clusterFront, target)
				r := c.inClient(t, dir, "", nil, needTool(t, "lftp", "lftp"), "-c", script)
				if r.code != 0 {
					t.Fatalf("lftp: %s", r)
				}
				checkFile(t, filepath.Join(c.writer, target), data)
				if !strings.Contains(r.stdout, target) {
					t.Errorf("lftp's listing %q lacks %s", r.stdout, target)
				}
				script = strings.Join(settings, "; ") + fmt.Sprintf("; open -u reader,%s ftp://%s; get %s -o big.bin", readerPass, clusterFront, fBig)
				if r := c.inClient(t, dir, "", nil, needTool(t, "lftp", "lftp"), "-c", script); r.code != 0 {
					t.Fatalf("lftp: %s", r)
				}
				checkFile(t, filepath.Join(dir, "big.bin"), fixtureFiles[fBig])
				sent := lftpSent(t, dir)
				if !slices.Contains(sent, mode) || tlsOn != slices.Contains(sent, "AUTH") {
					t.Errorf("lftp sent %q", sent)
				}
			})
		}
	}
	for _, mode := range []string{"PASV", "EPSV"} {
		t.Run("ftplib-"+mode, func(t *testing.T) {
			dir := t.TempDir()
			data := randomBytes(uint64(77+len(mode)), 1<<20+3)
			putFile(t, filepath.Join(dir, "up.bin"), string(data))
			target := "ftplib-" + mode + ".bin"
			r := c.inClient(t, dir, "", nil, needTool(t, "python3", "python3"), "-c", ftplibCluster, clusterFront, writerPass, mode, target, "plain")
			if r.code != 0 {
				t.Fatalf("ftplib: %s", r)
			}
			if !strings.Contains(r.stdout, target) || !strings.Contains(r.stdout, "sent "+mode) {
				t.Errorf("ftplib's output %q lacks %s or %s", r.stdout, target, mode)
			}
			checkFile(t, filepath.Join(c.writer, target), data)
			checkFile(t, filepath.Join(dir, "back.bin"), data)
		})
	}
	// ftplib never resumes the control connection's TLS session on a data
	// connection: through the balancer too, the node refuses it (522).
	t.Run("ftplib-FTPS-no-reuse", func(t *testing.T) {
		dir := t.TempDir()
		putFile(t, filepath.Join(dir, "up.bin"), "x")
		r := c.inClient(t, dir, "", nil, needTool(t, "python3", "python3"), "-c", ftplibCluster, clusterFront, writerPass, "PASV", "tls.bin", "tls")
		if r.code == 0 || !strings.Contains(r.stdout, "reply 522") {
			t.Fatalf("ftplib FTPS without session reuse: %s; want a 522 refusal", r)
		}
	})
	if node != nil && !(seen[1] && seen[2]) {
		t.Errorf("the sessions did not reach both nodes: %v", seen)
	}
}

// ftplibCluster uploads up.bin as TARGET, lists, and downloads it back to
// back.bin with MODE (PASV or EPSV) data connections; "tls" logs in over
// AUTH TLS with PROT P (certificate not checked).
//
//	python3 -c ftplibCluster HOST PASS MODE TARGET plain|tls
const ftplibCluster = `import ftplib, ssl, sys
host, pw, mode, target, sec = sys.argv[1:6]
class Plain(ftplib.FTP):
    def makepasv(self):
        if mode == "EPSV":
            return ftplib.parse229(self.sendcmd("EPSV"), self.sock.getpeername())
        return super().makepasv()
if sec == "tls":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    f = ftplib.FTP_TLS(context=ctx, timeout=30)
else:
    f = Plain(timeout=30)
f.connect(host, 21)
if sec == "tls":
    f.auth()
f.login("writer", pw)
if sec == "tls":
    f.prot_p()
try:
    with open("up.bin", "rb") as fp:
        f.storbinary("STOR " + target, fp)
except Exception as e:
    # the data connection failed: the reply that follows says why
    print("error", e)
    try:
        print("reply", f.getresp())
    except Exception as e2:
        print("reply", e2)
    sys.exit(1)
names = f.nlst()
with open("back.bin", "wb") as fp:
    f.retrbinary("RETR " + target, fp.write)
f.quit()
print("\n".join(names))
print("sent", mode)
`

// slowUpload is a Python ftplib client that uploads 3 MiB to slow.bin,
// prints the passive port, and after the first MiB waits for a file named
// "go" in its folder.
const slowUpload = `import ftplib, os, sys, time
class C(ftplib.FTP):
    def makepasv(self):
        h, p = super().makepasv()
        print("port", p, flush=True)
        return h, p
data = bytes((i * 7) % 251 for i in range(3 << 20))
class Src:
    pos = 0
    def read(self, n):
        if self.pos >= 1 << 20:
            while not os.path.exists("go"):
                time.sleep(0.02)
        chunk = data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk
f = C(timeout=60)
f.connect(sys.argv[1], 21)
f.login("writer", sys.argv[2])
f.storbinary("STOR slow.bin", Src(), blocksize=65536)
f.quit()
print("done", flush=True)
`

// liveUploadSurvives: while an upload runs through one node, its
// temporary file is not listed through the other, and the other node's
// start-up clean-up keeps it (it is live); the upload then completes
// whole.
func (c *cluster) liveUploadSurvives(t *testing.T, node func(int) int) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("ip", "netns", "exec", c.client, needTool(t, "python3", "python3"), "-c", slowUpload, clusterFront, writerPass)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errb := &syncBuffer{}
	cmd.Stderr = errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var port int
	select {
	case l := <-lines:
		port, _ = strconv.Atoi(strings.TrimPrefix(l, "port "))
	case <-time.After(30 * time.Second):
		t.Fatalf("the slow upload did not start: %s", errb.String())
	}
	up := node(port)
	if up == 0 {
		t.Fatalf("slow upload's passive port %d", port)
	}
	var temp string
	deadline := time.Now().Add(30 * time.Second)
	for temp == "" {
		entries, _ := os.ReadDir(c.writer)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".rftpd-upload.") {
				temp = e.Name()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no temporary file for the upload through node %d", up)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Listings (through either node) do not show it.
	for range 2 {
		r := c.curl(t, dir, "-l", "ftp://writer:"+writerPass+"@"+clusterFront+"/")
		if r.code != 0 || strings.Contains(r.stdout, ".rftpd-upload.") {
			t.Fatalf("listing during the upload: %s", r)
		}
	}
	// The other node restarts: its start-up clean-up keeps the live file.
	other := 2 - up // index of the other node
	if err := c.nodes[other].stop(); err != nil {
		t.Fatal(err)
	}
	c.nodes[other] = c.startNode(t, other, c.users, c.pasv[other])
	c.nodes[other].waitLog(t, "kept_live=1")
	if _, err := os.Stat(filepath.Join(c.writer, temp)); err != nil {
		t.Fatalf("node %d's start-up removed node %d's live upload: %v", other+1, up, err)
	}
	putFile(t, filepath.Join(dir, "go"), "")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("slow upload: %v\n%s", err, errb.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the slow upload did not finish")
	}
	want := make([]byte, 3<<20)
	for i := range want {
		want[i] = byte(i * 7 % 251)
	}
	checkFile(t, filepath.Join(c.writer, "slow.bin"), want)
}
