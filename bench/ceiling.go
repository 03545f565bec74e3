// The raw ceiling server: just enough FTP to log in and RETR with sendfile, one goroutine per session.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// Ceiling is a minimal server that measures what the machine can do: it
// answers USER, PASS, TYPE, EPSV, PASV, RETR, SIZE, NOOP and QUIT, and sends
// files from Root with sendfile (io.Copy from an *os.File to a TCP
// connection). It has no permissions, listings or uploads: it exists so that
// large-get and small-get can be held against the machine's limit, through
// the same client.
//
// It does the least a server must do per file. A session opens one passive
// listener, at its first EPSV or PASV, and accepts every data connection on
// it, without TCP keepalive. A file of up to smallFile bytes is sent before
// any reply (it fits in the socket buffers, so the client need not read
// first) and 150 and 226 then go out in one write.
type Ceiling struct {
	Root *os.Root
	Idle time.Duration // closes connections silent this long (default 5 min)
}

// Serve accepts on ln until it is closed.
func (c *Ceiling) Serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go c.session(conn.(*net.TCPConn))
	}
}

// smallFile is the largest file the ceiling sends before its 150 reply.
const smallFile = 16 << 10

func (c *Ceiling) session(conn *net.TCPConn) {
	defer conn.Close()
	idle := c.Idle
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	r := bufio.NewReaderSize(conn, 1024)
	reply := func(s string) bool {
		_, err := io.WriteString(conn, s+"\r\n")
		return err == nil
	}
	reply("220 ceiling ready.")
	var pasv *net.TCPListener
	defer func() {
		if pasv != nil {
			pasv.Close()
		}
	}()
	for range 1 << 30 { // bounded: ends at the first read error or QUIT
		conn.SetReadDeadline(time.Now().Add(idle))
		line, err := r.ReadString('\n')
		if err != nil || len(line) > 4096 {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "USER":
			reply("331 Any password.")
		case "PASS":
			reply("230 Logged in.")
		case "TYPE", "NOOP":
			reply("200 OK.")
		case "PWD":
			reply(`257 "/" is the current directory.`)
		case "QUIT":
			reply("221 Bye.")
			return
		case "EPSV", "PASV":
			local := conn.LocalAddr().(*net.TCPAddr)
			if pasv == nil {
				l, err := noKeepAlive.Listen(context.Background(), "tcp", net.JoinHostPort(local.IP.String(), "0"))
				if err != nil {
					reply("425 Cannot listen.")
					continue
				}
				pasv = l.(*net.TCPListener)
			}
			p := pasv.Addr().(*net.TCPAddr).Port
			if strings.EqualFold(verb, "EPSV") {
				reply(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|).", p))
			} else {
				ip := local.IP.To4()
				reply(fmt.Sprintf("227 Entering Passive Mode (%d,%d,%d,%d,%d,%d).", ip[0], ip[1], ip[2], ip[3], p>>8, p&0xff))
			}
		case "SIZE":
			fi, err := c.Root.Stat(rootPath(arg))
			if err != nil {
				reply("550 No such file.")
				continue
			}
			reply("213 " + strconv.FormatInt(fi.Size(), 10))
		case "RETR":
			if pasv == nil {
				reply("425 Use EPSV first.")
				continue
			}
			f, err := c.Root.Open(rootPath(arg))
			if err != nil {
				reply("550 No such file.")
				continue
			}
			fi, err := f.Stat()
			small := err == nil && fi.Size() <= smallFile
			if !small {
				reply("150 Sending.")
			}
			pasv.SetDeadline(time.Now().Add(30 * time.Second))
			dc, err := pasv.AcceptTCP()
			if err != nil {
				f.Close()
				reply("425 No data connection.")
				continue
			}
			_, err = io.Copy(dc, f) // sendfile(2)
			f.Close()
			dc.Close()
			end := "226 Done."
			if err != nil {
				end = "426 Transfer aborted."
			}
			if small {
				end = "150 Sending.\r\n" + end
			}
			reply(end)
		default:
			reply("502 Not implemented.")
		}
	}
}

// rootPath maps an FTP path to a name inside the root.
func rootPath(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}
