// Tests of reply parsing, passive replies, targets and the control connection against a scripted server.
package bench

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseEPSV(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"Entering Extended Passive Mode (|||40000|).", 40000},
		{"Entering Extended Passive Mode (!!!1!)", 1},
		{"EPSV ok (|||65535|)", 65535},
		{"Entering Extended Passive Mode (|||0|)", 0},
		{"Entering Extended Passive Mode (|||70000|)", 0},
		{"Entering Extended Passive Mode (||1|40000|)", 0},
		{"Entering Extended Passive Mode |||40000|", 0},
		{"()", 0},
	}
	for _, c := range cases {
		got, err := parseEPSV(c.in)
		if c.want == 0 && err == nil {
			t.Errorf("%q: got %d, want an error", c.in, got)
		}
		if c.want != 0 && (err != nil || got != c.want) {
			t.Errorf("%q: got %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParsePASV(t *testing.T) {
	cases := []struct {
		in   string
		ip   string
		port int
	}{
		{"Entering Passive Mode (127,0,0,1,156,64).", "127.0.0.1", 40000},
		{"Entering Passive Mode 192,0,2,1,0,21", "192.0.2.1", 21},
		{"=127,0,0,5,1,0", "127.0.0.5", 256},
		{"Entering Passive Mode (127,0,0,1,156)", "", 0},
		{"Entering Passive Mode (127,0,0,256,1,1)", "", 0},
		{"Entering Passive Mode (127,0,0,1,0,0)", "", 0},
		{"no numbers", "", 0},
	}
	for _, c := range cases {
		ip, port, err := parsePASV(c.in)
		if c.port == 0 {
			if err == nil {
				t.Errorf("%q: got %v:%d, want an error", c.in, ip, port)
			}
			continue
		}
		if err != nil || ip.String() != c.ip || port != c.port {
			t.Errorf("%q: got %v:%d, %v; want %s:%d", c.in, ip, port, err, c.ip, c.port)
		}
	}
}

func TestParseReplyLine(t *testing.T) {
	cases := []struct {
		in   string
		code int
		sep  byte
		text string
		ok   bool
	}{
		{"220 ready", 220, ' ', "ready", true},
		{"211-Features:", 211, '-', "Features:", true},
		{"200", 200, ' ', "", true},
		{"099 low", 0, 0, "", false},
		{"20", 0, 0, "", false},
		{"abc def", 0, 0, "", false},
		{"200x", 0, 0, "", false},
	}
	for _, c := range cases {
		code, sep, text, err := parseReplyLine(c.in)
		if (err == nil) != c.ok || code != c.code || sep != c.sep || text != c.text {
			t.Errorf("%q: got %d %q %q %v", c.in, code, sep, text, err)
		}
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in   string
		want Target
		ok   bool
	}{
		{"ftp://127.0.0.1:2121/", Target{Addr: "127.0.0.1:2121", User: "anonymous", Pass: "ftpbench@", Path: "/"}, true},
		{"ftp://127.0.0.1", Target{Addr: "127.0.0.1:21", User: "anonymous", Pass: "ftpbench@", Path: "/"}, true},
		{"ftp://u:p%40ss@127.0.0.1:21/pub/../data/", Target{Addr: "127.0.0.1:21", User: "u", Pass: "p@ss", Path: "/data"}, true},
		{"ftp://ftp@[::1]:2121/x", Target{Addr: "[::1]:2121", User: "ftp", Pass: "ftpbench@", Path: "/x"}, true},
		{"ftp://u@127.0.0.1/", Target{Addr: "127.0.0.1:21", User: "u", Pass: "", Path: "/"}, true},
		{"ftps://127.0.0.1/", Target{Addr: "127.0.0.1:990", User: "anonymous", Pass: "ftpbench@", Path: "/", TLS: TLSImplicit}, true},
		{"ftps://u:p@127.0.0.1:2990/x", Target{Addr: "127.0.0.1:2990", User: "u", Pass: "p", Path: "/x", TLS: TLSImplicit}, true},
		{"http://127.0.0.1/", Target{}, false},
		{"ftp:///x", Target{}, false},
		{"ftp://127.0.0.1/?a=b", Target{}, false},
		{"ftp://u:p%0d%0a@127.0.0.1/", Target{}, false},
	}
	for _, c := range cases {
		got, err := ParseTarget(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	tg, _ := ParseTarget("ftp://u:secret@127.0.0.1:2121/pub")
	if s := tg.String(); strings.Contains(s, "secret") || s != "ftp://u@127.0.0.1:2121/pub" {
		t.Errorf("String() = %q", s)
	}
	if tg, _ := ParseTarget("ftps://u:secret@127.0.0.1:2990/"); tg.String() != "ftps://u@127.0.0.1:2990/" {
		t.Errorf("String() = %q", tg.String())
	}
	if tg.Join("small/0000.bin") != "/pub/small/0000.bin" {
		t.Errorf("Join = %q", tg.Join("small/0000.bin"))
	}
}

func TestSources(t *testing.T) {
	lo, _ := ParseTarget("ftp://127.0.0.1:21/")
	if s := lo.Sources(3); len(s) != 3 || s[0].String() != "127.0.0.1" || s[2].String() != "127.0.0.3" {
		t.Errorf("Sources(3) = %v", s)
	}
	if s := lo.Sources(1000); len(s) != 254 || s[253].String() != "127.0.0.254" {
		t.Errorf("Sources(1000) has %d entries, last %v", len(s), s[len(s)-1])
	}
	if s := lo.Sources(1); len(s) != 1 || s[0] != nil {
		t.Errorf("Sources(1) = %v, want the system's choice", s)
	}
	v6, _ := ParseTarget("ftp://[::1]:21/")
	if s := v6.Sources(8); len(s) != 1 || s[0] != nil {
		t.Errorf("IPv6 Sources(8) = %v, want the system's choice", s)
	}
}

func TestErrorKind(t *testing.T) {
	err := errors.New("dial tcp 127.0.0.3:41234->127.0.0.1:2121: connect: connection refused")
	if got := errorKind(err); got != "dial tcp 127.0.0.3:*->127.0.0.1:*: connect: connection refused" {
		t.Errorf("errorKind = %q", got)
	}
	var e errorCounter
	for i := range maxErrorKinds + 5 {
		e.add(errors.New(strings.Repeat("x", i+1)))
	}
	e.add(errors.New("x"))
	k := e.snapshot()
	if e.n.Load() != maxErrorKinds+6 || len(k) != maxErrorKinds+1 || k["other"] != 5 || k["x"] != 2 {
		t.Errorf("counted %d, kinds %v", e.n.Load(), k)
	}
}

// scripted runs a one-connection server on loopback: it writes greet, then
// for each line read answers with the next reply of replies (in order).
func scripted(t *testing.T, greet string, replies ...string) (addr string, got chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte(greet))
		r := bufio.NewReader(c)
		var lines []string
		for _, rep := range replies {
			l, err := r.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, l)
			c.Write([]byte(rep))
		}
		got <- lines
	}()
	return ln.Addr().String(), got
}

func TestConnLoginAndMultiline(t *testing.T) {
	addr, got := scripted(t, "220-Welcome\r\n220-to the\r\n220 test\r\n",
		"331 Password please\r\n",
		"230 In\r\n",
		"211-Features:\r\n MLST type*;size*;\r\n211 The\r\n211 End\r\n",
		"200 ok\n",
		"221 Bye\r\n")
	ctx := context.Background()
	c, err := Dial(ctx, addr, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("anonymous", "x@"); err != nil {
		t.Fatal(err)
	}
	code, msg, err := c.Cmd("FEAT")
	if err != nil || code != 211 || msg != "The" {
		t.Fatalf("FEAT: %d %q %v", code, msg, err)
	}
	// "211 End" is a separate reply, answering the next command.
	if _, err := c.Expect("NOOP", 200); err == nil {
		t.Fatal("NOOP accepted the leftover 211 line")
	} else if re := new(ReplyError); !errors.As(err, &re) || re.Code != 211 {
		t.Fatalf("NOOP: %v", err)
	}
	if _, _, err := c.Cmd("BAD\r\nQUIT"); err == nil {
		t.Fatal("a command with CRLF was sent")
	}
	c.Quit()
	lines := <-got
	want := []string{"USER anonymous\r\n", "PASS x@\r\n", "FEAT\r\n", "NOOP\r\n", "QUIT\r\n"}
	if strings.Join(lines, "") != strings.Join(want, "") {
		t.Errorf("server read %q, want %q", lines, want)
	}
}

func TestConnRefusedLogin(t *testing.T) {
	addr, _ := scripted(t, "220 hi\r\n", "331 pw\r\n", "530 Login incorrect.\r\n")
	c, err := Dial(context.Background(), addr, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login("u", "bad")
	var re *ReplyError
	if !errors.As(err, &re) || re.Cmd != "PASS" || re.Code != 530 || err.Error() != "PASS: 530 Login incorrect." {
		t.Errorf("Login = %v", err)
	}
}

func TestConnBadGreetingAndTimeout(t *testing.T) {
	addr, _ := scripted(t, "421 Too many\r\n")
	if _, err := Dial(context.Background(), addr, nil, 5*time.Second); err == nil || !strings.Contains(err.Error(), "421") {
		t.Errorf("Dial with 421 greeting: %v", err)
	}
	addr2, _ := scripted(t, "")
	start := time.Now()
	if _, err := Dial(context.Background(), addr2, nil, 200*time.Millisecond); err == nil {
		t.Error("Dial without greeting succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Dial took %v with a 200ms timeout", time.Since(start))
	}
	addr3, _ := scripted(t, "220 "+strings.Repeat("x", maxReplyLine+10)+"\r\n")
	if _, err := Dial(context.Background(), addr3, nil, 5*time.Second); err == nil || !strings.Contains(err.Error(), "longer") {
		t.Errorf("Dial with a huge greeting: %v", err)
	}
}

func TestDialFromSourceAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	remote := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			remote <- ""
			return
		}
		remote <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Write([]byte("220 hi\r\n"))
		c.Close()
	}()
	c, err := Dial(context.Background(), ln.Addr().String(), net.IPv4(127, 0, 0, 7), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if got := <-remote; got != "127.0.0.7" {
		t.Errorf("server saw the client at %s, want 127.0.0.7", got)
	}
	if c.LocalIP().String() != "127.0.0.7" {
		t.Errorf("LocalIP = %v", c.LocalIP())
	}
}
