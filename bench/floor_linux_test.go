package bench

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startFloor(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f.bin"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &Floor{Root: root}
	addr, err := f.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Serve() }()
	t.Cleanup(func() {
		f.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return within 10 s of Close")
		}
	})
	return addr
}

// The floor answers the noop step's commands, pipelined or split at any
// byte, with exact replies, and SIZE stays inside its root.
func TestFloorReplies(t *testing.T) {
	addr := startFloor(t)
	script := "USER anonymous\r\nPASS x\r\nNOOP\r\npwd\r\nSIZE /f.bin\r\nSIZE f.bin\r\nSIZE ../../f.bin\r\nSIZE dir\r\n" +
		"SIZE nope\r\nTYPE I\r\nFOO bar\r\nQUIT\r\n"
	want := "220 floor ready.\r\n331 Password, please.\r\n230 Logged in.\r\n200 OK.\r\n257 \"/\" is the current directory.\r\n" +
		"213 4096\r\n213 4096\r\n213 4096\r\n550 No such file.\r\n550 No such file.\r\n200 Type set.\r\n502 Not implemented.\r\n221 Bye.\r\n"
	for _, split := range []int{len(script), 1, 7} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			for s := script; s != ""; {
				n := min(split, len(s))
				c.Write([]byte(s[:n]))
				s = s[n:]
			}
		}()
		got, err := io.ReadAll(c) // QUIT closes the session
		c.Close()
		if err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		if string(got) != want {
			t.Errorf("split %d: got\n%q\nwant\n%q", split, got, want)
		}
	}
}

// A line longer than the floor keeps closes the session; others go on.
func TestFloorLongLine(t *testing.T) {
	addr := startFloor(t)
	other, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(other)
	r.ReadString('\n') // greeting

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	c.Write([]byte(strings.Repeat("x", 3*floorLine)))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "220 floor ready.\r\n" {
		t.Errorf("read %q before the close, want the greeting alone", got)
	}
	other.Write([]byte("NOOP\r\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "200 OK.\r\n" {
		t.Errorf("the other session read %q, %v", line, err)
	}
}
