// Checksum commands: HASH, RANG and OPTS HASH (draft-bryan-ftpext-hash-02), and the X forms XCRC XMD5 XSHA1 XSHA256 XSHA512.
package protocol

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// hashNames are the algorithms' names in FEAT, OPTS HASH and HASH's reply:
// the IANA "Hash Function Textual Names" where there is one (the draft,
// §3.1); CRC32, which has none, is spelled as ProFTPD's mod_digest does.
var hashNames = [numHashAlgos]string{
	HashSHA256: "SHA-256",
	HashSHA512: "SHA-512",
	HashSHA1:   "SHA-1",
	HashMD5:    "MD5",
	HashCRC32:  "CRC32",
}

// featHashOrder is the order of the algorithms on FEAT's HASH line.
var featHashOrder = [...]HashAlgo{HashSHA256, HashSHA512, HashSHA1, HashMD5, HashCRC32}

// defaultHash is the algorithm HASH uses until OPTS HASH chooses another.
// The draft (§5) asks for none weaker than SHA-1 by default.
const defaultHash = HashSHA256

// featHash is FEAT's HASH line with the default selected.
var featHash = featHashLine(defaultHash)

// featHashLine is FEAT's HASH line with cur marked: " HASH SHA-256*;SHA-512;...".
func featHashLine(cur HashAlgo) string {
	b := []byte(" HASH ")
	for i, a := range featHashOrder {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, hashNames[a]...)
		if a == cur {
			b = append(b, '*')
		}
	}
	return string(b)
}

// featHashFor returns FEAT's lines with the HASH line marking the
// session's algorithm (draft §3.1: the current one carries the star).
func (s *Session) featHashFor(lines []string) []string {
	if s.algo() == defaultHash {
		return lines
	}
	for i, l := range lines {
		if l == featHash {
			lines = append([]string(nil), lines...)
			lines[i] = featHashLine(s.algo())
			break
		}
	}
	return lines
}

// algo is the algorithm HASH uses now.
func (s *Session) algo() HashAlgo {
	if s.hashAlgo == 0 {
		return defaultHash
	}
	return s.hashAlgo
}

// optsHASH serves OPTS HASH (draft §3.2): with no name it reports the
// algorithm in use, with one it selects it until the next OPTS HASH or
// REIN; an unknown name is 501 and changes nothing.
//
//	C> OPTS HASH SHA-512
//	S> 200 SHA-512
func (s *Session) optsHASH(name string) {
	if name == "" {
		s.reply(codeOK, hashNames[s.algo()])
		return
	}
	for _, a := range featHashOrder {
		if strings.EqualFold(name, hashNames[a]) {
			s.hashAlgo = a
			s.reply(codeOK, hashNames[a])
			return
		}
	}
	s.reply(codeArgSyntaxError, "Unknown algorithm, current selection not changed.")
}

// byteRange is RANG's selection: bytes start to end of the file, both
// included (draft-bryan-ftp-range §3: "RANG 0 1" selects two bytes).
type byteRange struct {
	start, end int64
}

// cmdRANG selects a byte range for the next command, which must be HASH
// (draft-bryan-ftpext-hash §3.3). "RANG 1 0" resets it; a start after its
// end is 501 and resets it too (draft-bryan-ftp-range §3). rftpd applies
// ranges to HASH only, so FEAT does not list "RANG STREAM" (which promises
// them for RETR and STOR), and a transfer command after RANG is refused
// (refuseRanged).
func (s *Session) cmdRANG(arg string, _ time.Time) {
	s.rang = nil
	a, b, ok := strings.Cut(arg, " ")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || !allDigits(a) || !allDigits(b) || err1 != nil || err2 != nil || end == math.MaxInt64 {
		s.reply(codeArgSyntaxError, "RANG needs a start and an end byte.")
		return
	}
	switch {
	case start == 1 && end == 0:
		s.reply(codePendingInfo, "Byte range reset to the whole file.")
	case start > end:
		s.reply(codeArgSyntaxError, "RANG start is after its end; byte range reset to the whole file.")
	default:
		s.rang = &byteRange{start: start, end: end}
		s.reply(codePendingInfo, "Byte range "+a+"-"+b+" selected; send HASH.")
	}
}

// refuseRanged answers a transfer command that follows RANG with 504 and
// reports whether it did: rftpd does not transfer ranges, and sending the
// whole file (or writing from 0) where a part was asked for would be
// wrong. The draft allows an error reply to the command after a RANG it
// does not serve (draft-bryan-ftp-range §4.3).
func (s *Session) refuseRanged(c *command) bool {
	if s.rang == nil || c == nil || !c.xfer {
		return false
	}
	s.rang = nil
	s.reply(codeParamNotImpl, "RANG applies to HASH only; the byte range is reset.")
	return true
}

// cmdHASH asks for the checksum of a file with the algorithm OPTS HASH
// chose, over the range RANG selected if it came just before (draft
// §3, §3.3). The reply names the algorithm, the range (both ends included,
// as RANG gives them), the lower-case hex checksum and the path as the
// client gave it:
//
//	C> HASH pub/a.iso
//	S> 213 SHA-256 0-1048575 0c2f…e3 pub/a.iso
//
// An empty range (an empty file) is written "0-0", the grammar having no
// form for it (end-point must not be below start-point).
func (s *Session) cmdHASH(arg string, _ time.Time) {
	p := resolve(s.cwd, arg)
	r := ReqHash{Path: p, Algo: s.algo(), End: -1}
	if s.rang != nil {
		r.Start, r.End, r.Clamp = s.rang.start, s.rang.end+1, true
	}
	s.await(stWaitHash, r, p, arg)
}

// doneHASH answers HASH.
func (s *Session) doneHASH(ev Event, _ time.Time) {
	e, _ := ev.(EvHash)
	if e.Err != nil {
		s.reply(hashErrReply(e.Err, true))
	} else {
		end := max(e.End-1, e.Start)
		var num [40]byte
		rng := strconv.AppendInt(num[:0], e.Start, 10)
		rng = strconv.AppendInt(append(rng, '-'), end, 10)
		s.reply(codeFileStatus, hashNames[s.algo()], " ", string(rng), " ", string(appendHex(nil, e.Sum, lowerHex)), " ", s.waitPath2)
	}
	s.hashAbortDone(e.Err)
}

// The X forms, one verb per algorithm, as ProFTPD's mod_digest, Serv-U and
// others serve them and FluentFTP, FileZilla's engine users and curl's -Q
// send them: "XMD5 path", "XMD5 path start" (to the end of the file) or
// "XMD5 path start end" (end excluded, as mod_digest counts it). The
// answer is "250 " and the upper-case hex checksum alone: mod_digest's
// last line, which is what FluentFTP's GetXMD5 and friends return as the
// reply's message.
func (s *Session) cmdXCRC(arg string, _ time.Time)    { s.xhash(HashCRC32, arg) }
func (s *Session) cmdXMD5(arg string, _ time.Time)    { s.xhash(HashMD5, arg) }
func (s *Session) cmdXSHA1(arg string, _ time.Time)   { s.xhash(HashSHA1, arg) }
func (s *Session) cmdXSHA256(arg string, _ time.Time) { s.xhash(HashSHA256, arg) }
func (s *Session) cmdXSHA512(arg string, _ time.Time) { s.xhash(HashSHA512, arg) }

// xhash runs an X form with algo.
func (s *Session) xhash(algo HashAlgo, arg string) {
	name, start, end, ok := parseXArgs(arg)
	if !ok {
		s.reply(codeArgSyntaxError, "Syntax: pathname [start [end]], with start not after end.")
		return
	}
	p := resolve(s.cwd, name)
	s.await(stWaitHash, ReqHash{Path: p, Algo: algo, Start: start, End: end}, p, "")
}

// doneXHash answers an X form.
func (s *Session) doneXHash(ev Event, _ time.Time) {
	e, _ := ev.(EvHash)
	if e.Err != nil {
		s.reply(hashErrReply(e.Err, false))
	} else {
		s.reply(codeFileActionOK, string(appendHex(nil, e.Sum, upperHex)))
	}
	s.hashAbortDone(e.Err)
}

// parseXArgs splits an X form's argument into the path and the optional
// offsets. A path in double quotes may hold spaces and digits freely
// ("XMD5 "my file 2" 0 10"); an unquoted one is all that comes before the
// last one or two space-separated decimal numbers, so a name ending in
// " 2024" must be quoted. end is -1 when not given.
func parseXArgs(arg string) (name string, start, end int64, ok bool) {
	var nums []string
	if strings.HasPrefix(arg, `"`) {
		i := strings.IndexByte(arg[1:], '"')
		if i < 0 {
			return "", 0, 0, false
		}
		name = arg[1 : 1+i]
		if rest := arg[2+i:]; rest != "" {
			if rest[0] != ' ' {
				return "", 0, 0, false
			}
			nums = strings.Split(rest[1:], " ")
		}
	} else {
		name = arg
		for len(nums) < 2 {
			i := strings.LastIndexByte(name, ' ')
			if i <= 0 || !allDigits(name[i+1:]) || name[i+1:] == "" {
				break
			}
			nums = append([]string{name[i+1:]}, nums...)
			name = name[:i]
		}
	}
	if name == "" || len(nums) > 2 {
		return "", 0, 0, false
	}
	start, end = 0, -1
	for i, n := range nums {
		v, err := strconv.ParseInt(n, 10, 64)
		if !allDigits(n) || n == "" || err != nil {
			return "", 0, 0, false
		}
		if i == 0 {
			start = v
		} else {
			end = v
		}
	}
	if end >= 0 && end < start {
		return "", 0, 0, false
	}
	return name, start, end, true
}

// hashErrReply chooses the reply for a failed hash; draft is true for
// HASH, whose codes the draft gives (§3.5), false for the X forms, which
// answer as mod_digest does.
func hashErrReply(err error, draft bool) (replyCode, string) {
	switch {
	case errors.Is(err, ErrAborted):
		return codeTransferAborted, "Hash aborted."
	case errors.Is(err, ErrBusy):
		return codeFileBusy, "Server busy hashing, try again later."
	case errors.Is(err, ErrIsDir) && draft:
		return codeBadFileName, "Is a directory: a directory has no hash."
	case errors.Is(err, ErrIsDir):
		return codeFileUnavailable, "Not a regular file."
	case errors.Is(err, ErrBadOffset):
		return codeArgSyntaxError, "The range is beyond the end of the file."
	}
	return fileErrReply(err)
}

// hashAbortDone answers an ABOR that came during the hash, after the
// hash's own reply: 226 when it stopped the hash, 225 when the hash had
// finished first (as for a transfer, RFC 959 §4.1.3).
func (s *Session) hashAbortDone(err error) {
	if !s.abortCmd {
		return
	}
	s.abortCmd = false
	s.unmark(markAbor, s.mAborMs, "ABOR")
	if err == nil {
		s.reply(codeNoTransfer, "No transfer to abort.")
	} else {
		s.reply(codeClosingData, "Abort successful.")
	}
}

// The hex digits of checksums: HASH's in lower case (draft §3: "SHOULD be
// encoded in lowercase"), the X forms' in upper case, as mod_digest sends
// them. (encoding/hex would bring in os through fmt.)
const (
	lowerHex = "0123456789abcdef"
	upperHex = "0123456789ABCDEF"
)

// appendHex appends sum in hex written with digits.
func appendHex(b, sum []byte, digits string) []byte {
	for _, c := range sum {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return b
}
