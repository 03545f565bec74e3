// Telnet (RFC 854) command stripping for control lines.
package reactor

// Telnet bytes that matter on an FTP control connection.
const (
	iac  = 255 // interpret as command
	sb   = 250 // subnegotiation begin
	se   = 240 // subnegotiation end
	will = 251
	wont = 252
	do   = 253
	dont = 254
)

// stripTelnet appends line to dst without its Telnet command sequences:
// IAC IAC becomes one 0xFF byte; IAC WILL/WONT/DO/DONT x, IAC SB ... IAC SE
// and two-byte commands (IP, DM, AYT, ...) vanish. An IAC followed by an
// ordinary byte (the DM of an urgent "IAC IP IAC DM" can be taken out of
// band) is dropped alone, so "\xff\xf4\xffABOR" still reads "ABOR".
func stripTelnet(dst, line []byte) []byte {
	for i := 0; i < len(line); i++ {
		b := line[i]
		if b != iac {
			dst = append(dst, b)
			continue
		}
		if i+1 >= len(line) {
			break
		}
		switch c := line[i+1]; {
		case c == iac:
			dst = append(dst, iac)
			i++
		case c == will || c == wont || c == do || c == dont:
			i += 2
		case c == sb:
			i += 2
			for i < len(line) && !(line[i] == iac && i+1 < len(line) && line[i+1] == se) {
				i++
			}
			i++
		case c >= se:
			i++
		}
	}
	return dst
}
