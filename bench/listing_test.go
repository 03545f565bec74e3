// Tests of the MLSD-to-LIST fallback against a scripted server without MLSD.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// noMLSDServer answers EPSV, LIST (three lines) and anything else with 500,
// like vsftpd does MLSD. It counts the MLSD commands it refused.
func noMLSDServer(t *testing.T, mlsds *int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(c, "220 hi\r\n")
		r := bufio.NewReader(c)
		var pasv net.Listener
		for range 100 {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb {
			case "EPSV":
				pasv, _ = net.Listen("tcp", "127.0.0.1:0")
				fmt.Fprintf(c, "229 Entering Extended Passive Mode (|||%d|)\r\n", pasv.Addr().(*net.TCPAddr).Port)
			case "LIST":
				fmt.Fprint(c, "150 Here it comes.\r\n")
				d, err := pasv.Accept()
				pasv.Close()
				if err != nil {
					return
				}
				fmt.Fprint(d, "-rw-r--r-- 1 ftp ftp 0 Jan 1 2024 a\r\n-rw-r--r-- 1 ftp ftp 0 Jan 1 2024 b\r\n-rw-r--r-- 1 ftp ftp 0 Jan 1 2024 c\r\n")
				d.Close()
				fmt.Fprint(c, "226 Done.\r\n")
			case "MLSD":
				*mlsds++
				fmt.Fprint(c, "500 Unknown command.\r\n")
			default:
				fmt.Fprint(c, "500 Unknown command.\r\n")
			}
		}
	}()
	return ln.Addr().String()
}

func TestListingFallsBackToLIST(t *testing.T) {
	var mlsds int
	addr := noMLSDServer(t, &mlsds)
	c, err := Dial(context.Background(), addr, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := &worker{conn: c}
	for i := range 3 {
		n, lines, used, err := w.listing(context.Background(), EPSV, "/list", true)
		if err != nil || lines != 3 || n == 0 || used {
			t.Fatalf("listing %d: %d bytes, %d lines, MLSD %v, %v", i, n, lines, used, err)
		}
	}
	if mlsds != 1 || !w.noMLSD {
		t.Errorf("MLSD tried %d times (want once), noMLSD %v", mlsds, w.noMLSD)
	}
}
