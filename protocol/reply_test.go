// Tests of the reply encoder.
package protocol

import "testing"

func TestAppendReply(t *testing.T) {
	for _, c := range []struct {
		code replyCode
		text string
		want string
	}{
		{200, "NOOP ok.", "200 NOOP ok.\r\n"},
		{550, "a\r\n230 forged", "550 a  230 forged\r\n"},
		{550, "nul\x00here", "550 nul here\r\n"},
		{550, "\nends\r", "550  ends \r\n"},
		{220, "", "220 \r\n"},
		{0, "bad code", "451 bad code\r\n"},
		{1000, "bad code", "451 bad code\r\n"},
	} {
		if got := string(appendReply(nil, c.code, c.text)); got != c.want {
			t.Errorf("appendReply(%d, %q) = %q, want %q", c.code, c.text, got, c.want)
		}
	}
}

func TestMultiLine(t *testing.T) {
	var s Session
	s.replyMulti(211, "first", []string{" indented", "123 digits", "plain", "", "x\ny"}, "last")
	want := "211-first\r\n indented\r\n 123 digits\r\nplain\r\n\r\nx y\r\n211 last\r\n"
	if got := string(s.out.Reply); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if err := checkReplies(s.out.Reply); err != nil {
		t.Fatal(err)
	}
}

func TestAppendInnerLines(t *testing.T) {
	got := string(appendInnerLines(nil, []byte("a\r\n\r\n1 b\nc\r\rd\n\n")))
	want := "a\r\n 1 b\r\nc  d\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestQuotePath(t *testing.T) {
	for in, want := range map[string]string{
		"/":           `"/"`,
		`/a"b`:        `"/a""b"`,
		`/""`:         `"/"""""`,
		"/with space": `"/with space"`,
	} {
		if got := quotePath(in); got != want {
			t.Errorf("quotePath(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCheckReplies(t *testing.T) {
	for _, bad := range []string{
		"200 ok",
		"200 ok\n",
		"20 ok\r\n",
		"200x ok\r\n",
		"211-open\r\n",
		"211-open\r\n212 other\r\n",
		"211-open\r\n1 digit\r\n211 end\r\n",
		"200 a\rb\r\n",
		"600 bad\r\n",
	} {
		if checkReplies([]byte(bad)) == nil {
			t.Errorf("checkReplies(%q) accepted a malformed reply", bad)
		}
	}
	for _, good := range []string{"", "200 ok\r\n", "211-a\r\n b\r\n211 c\r\n226 x\r\n"} {
		if err := checkReplies([]byte(good)); err != nil {
			t.Errorf("checkReplies(%q): %v", good, err)
		}
	}
}
