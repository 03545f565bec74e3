// Data endpoint syntax: PORT and EPRT arguments, 227 and 229 replies.
package protocol

import (
	"net/netip"
	"strconv"
)

// parsePORT parses the RFC 959 "h1,h2,h3,h4,p1,p2" form strictly: six
// decimal fields of one to three digits, each 0–255, nothing else.
func parsePORT(arg string) (netip.AddrPort, bool) {
	var f [6]byte
	n := 0
	for i := 0; i < 6; i++ {
		v, digits := 0, 0
		for n < len(arg) && arg[n] >= '0' && arg[n] <= '9' && digits < 3 {
			v = v*10 + int(arg[n]-'0')
			n++
			digits++
		}
		if digits == 0 || v > 255 {
			return netip.AddrPort{}, false
		}
		f[i] = byte(v)
		if i < 5 {
			if n >= len(arg) || arg[n] != ',' {
				return netip.AddrPort{}, false
			}
			n++
		}
	}
	if n != len(arg) {
		return netip.AddrPort{}, false
	}
	addr := netip.AddrFrom4([4]byte{f[0], f[1], f[2], f[3]})
	return netip.AddrPortFrom(addr, uint16(f[4])<<8|uint16(f[5])), true
}

// eprtError says why an EPRT argument was refused.
type eprtError uint8

const (
	eprtOK       eprtError = iota
	eprtSyntax             // malformed: 501
	eprtProtocol           // a protocol other than 1 or 2: 522
)

// parseEPRT parses the RFC 2428 "<d>proto<d>addr<d>port<d>" form, where d is
// any printable ASCII character (33–126) not in the fields.
//
//	|1|132.235.1.2|6275|   |2|1080::8:800:200C:417A|5282|
func parseEPRT(arg string) (netip.AddrPort, eprtError) {
	if len(arg) < 2 || arg[0] < 33 || arg[0] > 126 || arg[len(arg)-1] != arg[0] {
		return netip.AddrPort{}, eprtSyntax
	}
	d := arg[0]
	var fields [3]string
	rest := arg[1 : len(arg)-1]
	for i := 0; i < 3; i++ {
		j := 0
		for j < len(rest) && rest[j] != d {
			j++
		}
		if i < 2 && j == len(rest) || i == 2 && j != len(rest) {
			return netip.AddrPort{}, eprtSyntax
		}
		fields[i] = rest[:j]
		if i < 2 {
			rest = rest[j+1:]
		}
	}
	proto, addrText, portText := fields[0], fields[1], fields[2]
	if !allDigits(proto) {
		return netip.AddrPort{}, eprtSyntax
	}
	if proto != "1" && proto != "2" {
		return netip.AddrPort{}, eprtProtocol
	}
	addr, err := netip.ParseAddr(addrText)
	if err != nil || addr.Zone() != "" || proto == "1" && !addr.Is4() || proto == "2" && !addr.Is6() {
		return netip.AddrPort{}, eprtSyntax
	}
	if !allDigits(portText) || len(portText) > 5 {
		return netip.AddrPort{}, eprtSyntax
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, eprtSyntax
	}
	return netip.AddrPortFrom(addr, uint16(port)), eprtOK
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// format227 renders an IPv4 endpoint as RFC 959's "h1,h2,h3,h4,p1,p2"; ok is
// false for an IPv6 address that is not IPv4-mapped.
func format227(ap netip.AddrPort) (string, bool) {
	a := ap.Addr().Unmap()
	if !a.Is4() {
		return "", false
	}
	b := make([]byte, 0, 24)
	for _, x := range a.As4() {
		b = strconv.AppendUint(b, uint64(x), 10)
		b = append(b, ',')
	}
	b = strconv.AppendUint(b, uint64(ap.Port()>>8), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(ap.Port()&0xff), 10)
	return string(b), true
}
