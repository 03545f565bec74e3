// Tests of PORT/EPRT parsing and 227 formatting.
package protocol

import (
	"net/netip"
	"testing"
)

func TestParsePORT(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want string // empty: refused
	}{
		{"127,0,0,1,4,1", "127.0.0.1:1025"},
		{"0,0,0,0,0,0", "0.0.0.0:0"},
		{"255,255,255,255,255,255", "255.255.255.255:65535"},
		{"1,2,3,4,5", ""},
		{"1,2,3,4,5,6,7", ""},
		{"1,2,3,4,5,256", ""},
		{"1,2,3,4,5,", ""},
		{",1,2,3,4,5", ""},
		{"1,2,3,4,5,6 ", ""},
		{"1,2,3,4,5,0006", ""},
		{"1.2.3.4.5.6", ""},
		{"", ""},
	} {
		ap, ok := parsePORT(c.arg)
		got := ""
		if ok {
			got = ap.String()
		}
		if got != c.want {
			t.Errorf("parsePORT(%q) = %q, want %q", c.arg, got, c.want)
		}
	}
}

func TestParseEPRT(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want string
		err  eprtError
	}{
		{"|1|132.235.1.2|6275|", "132.235.1.2:6275", eprtOK},
		{"|2|1080::8:800:200C:417A|5282|", "[1080::8:800:200c:417a]:5282", eprtOK},
		{"#1#1.2.3.4#65535#", "1.2.3.4:65535", eprtOK},
		{"~1~1.2.3.4~1~", "1.2.3.4:1", eprtOK},
		{"|3|1.2.3.4|5|", "", eprtProtocol},
		{"|12|1.2.3.4|5|", "", eprtProtocol},
		{"|a|1.2.3.4|5|", "", eprtSyntax},
		{"||1.2.3.4|5|", "", eprtSyntax},
		{"|1|1.2.3.4|65536|", "", eprtSyntax},
		{"|1|1.2.3.4|0|", "", eprtSyntax},
		{"|1|1.2.3.4||", "", eprtSyntax},
		{"|1|1.2.3.4|5", "", eprtSyntax},
		{"|1|1.2.3.4|5|6|", "", eprtSyntax},
		{"|1|::1|5|", "", eprtSyntax},
		{"|2|1.2.3.4|5|", "", eprtSyntax},
		{"|2|fe80::1%eth0|5|", "", eprtSyntax},
		{" 1 1.2.3.4 5 ", "", eprtSyntax},
		{"\x7f1\x7f1.2.3.4\x7f5\x7f", "", eprtSyntax},
		{"|", "", eprtSyntax},
		{"", "", eprtSyntax},
	} {
		ap, err := parseEPRT(c.arg)
		got := ""
		if err == eprtOK {
			got = ap.String()
		}
		if err != c.err || got != c.want {
			t.Errorf("parseEPRT(%q) = %q, %d; want %q, %d", c.arg, got, err, c.want, c.err)
		}
	}
}

func TestFormat227(t *testing.T) {
	got, ok := format227(netip.MustParseAddrPort("10.0.0.1:65535"))
	if !ok || got != "10,0,0,1,255,255" {
		t.Errorf("format227 = %q, %v", got, ok)
	}
	got, ok = format227(netip.MustParseAddrPort("[::ffff:10.0.0.1]:256"))
	if !ok || got != "10,0,0,1,1,0" {
		t.Errorf("format227 mapped = %q, %v", got, ok)
	}
	if _, ok := format227(netip.MustParseAddrPort("[::1]:21")); ok {
		t.Error("format227 accepted IPv6")
	}
}
