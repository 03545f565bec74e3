package dtp

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEpollEntry(t *testing.T) {
	info := []byte("pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n" +
		"tfd:       17 events: 8000201d data: 3fae50c0dd000001  pos:0 ino:266916a sdev:9\n" +
		"tfd:        7 events:       19 data:           f0d040  pos:0 ino:40e sdev:10\n" +
		"tfd:      170 events: 8000201d data: 3fae50c0de000003  pos:0 ino:266941e sdev:9\n")
	for _, c := range []struct {
		fd   int
		want pollEntry
		ok   bool
	}{
		{17, pollEntry{events: 0x8000201d, data: 0x3fae50c0dd000001, ino: 0x266916a}, true},
		{7, pollEntry{events: 0x19, data: 0xf0d040, ino: 0x40e}, true},
		{170, pollEntry{events: 0x8000201d, data: 0x3fae50c0de000003, ino: 0x266941e}, true},
		{1, pollEntry{}, false},
		{70, pollEntry{}, false},
	} {
		got, ok := epollEntry(bytes.NewReader(info), c.fd)
		if ok != c.ok || got != c.want {
			t.Errorf("fd %d: %+v, %v; want %+v, %v", c.fd, got, ok, c.want, c.ok)
		}
	}
	if _, ok := epollEntry(strings.NewReader("tfd: 17 events: zz data: 1 pos:0 ino:1 sdev:9\n"), 17); ok {
		t.Error("malformed events parsed")
	}
}

// The reading stops at fd's line: what follows is never asked for.
func TestEpollEntryStops(t *testing.T) {
	head := strings.NewReader("pos:\t0\ntfd:       17 events: 8000201d data: 3fae50c0dd000001  pos:0 ino:266916a sdev:9\n")
	e, ok := epollEntry(io.MultiReader(head, failReader{t}), 17)
	if !ok || e.data != 0x3fae50c0dd000001 {
		t.Errorf("got %+v, %v", e, ok)
	}
}

type failReader struct{ t *testing.T }

func (f failReader) Read([]byte) (int, error) {
	f.t.Error("read past fd's line")
	return 0, io.EOF
}

// A socket taken out of the netpoller and put back waits there again:
// a read that must wait for the peer, and a write that must wait for the
// peer to read, both complete (a lost registration would leave them
// waiting for the deadline).
func TestDetachNetpoll(t *testing.T) {
	a, b := tcpPair(t)
	rc, err := a.SyscallConn()
	mustOK(t, err)
	var reattach func() error
	mustOK(t, rc.Control(func(fd uintptr) {
		epfd, before, ok := findNetpoll(int(fd))
		if !ok {
			t.Fatal("the socket is in no epoll instance")
		}
		if reattach = detachNetpoll(int(fd)); reattach == nil {
			t.Fatal("detachNetpoll refused")
		}
		if _, ok := registration(epfd, int(fd)); ok {
			t.Error("still registered after detachNetpoll")
		}
		mustOK(t, reattach())
		after, ok := registration(epfd, int(fd))
		if !ok || after != before {
			t.Errorf("registered again as %+v (%v), want %+v", after, ok, before)
		}
	}))
	a.SetDeadline(time.Now().Add(time.Minute))
	b.SetDeadline(time.Now().Add(time.Minute))

	go func() {
		time.Sleep(50 * time.Millisecond)
		b.Write([]byte("late"))
	}()
	buf := make([]byte, 4)
	_, err = io.ReadFull(a, buf)
	mustOK(t, err)
	if string(buf) != "late" {
		t.Fatalf("read %q", buf)
	}

	// More than the socket buffers hold: the write waits for the reader.
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20)
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		r, _ := io.ReadAll(io.LimitReader(b, int64(len(data))))
		got <- r
	}()
	_, err = a.Write(data)
	mustOK(t, err)
	if r := <-got; !bytes.Equal(r, data) {
		t.Fatalf("read %d bytes, wrote %d", len(r), len(data))
	}
}
