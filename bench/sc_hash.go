// Scenarios run only when named: server-side checksums (HASH), which not every server has.
package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// namedOnly are scenarios that "all" leaves out: they use commands only
// some servers serve, so the suites and comparisons never run them.
var namedOnly = []Scenario{
	{"hash", "HASH of the large file back to back on logged-in sessions (named only): bytes hashed/s", runHash},
}

// NamedOnly returns the scenarios run only when named with -s.
func NamedOnly() []Scenario { return append([]Scenario(nil), namedOnly...) }

// runHash asks for the checksum of the large file again and again with the
// server's default algorithm; its bytes are the bytes hashed, which the
// server's rate caps (rftpd's hash_rate, hash_rate_per_session) bound.
func runHash(ctx context.Context, cfg Config) (*Result, error) {
	p := cfg.Target.Join(cfg.Layout.LargeFile)
	var algo string
	r := runJob(ctx, cfg, job{
		name:    "hash",
		unit:    "hashes",
		target:  cfg.Target,
		session: true,
		op: func(ctx context.Context, w *worker) (int64, error) {
			msg, err := w.conn.Expect("HASH "+p, 213)
			if err != nil {
				return 0, err
			}
			a, n, err := hashReplyBytes(msg)
			algo = a
			return n, err
		},
	})
	r.Notes = append(r.Notes, fmt.Sprintf("HASH %s (%s)", p, algo))
	return r, nil
}

// hashReplyBytes reads the algorithm and the number of bytes hashed from
// HASH's reply text, "SHA-256 0-99 <hex> <path>" (the range's ends both
// included).
func hashReplyBytes(msg string) (string, int64, error) {
	f := strings.SplitN(msg, " ", 3)
	if len(f) < 3 {
		return "", 0, fmt.Errorf("bench: HASH reply %q", msg)
	}
	a, b, ok := strings.Cut(f[1], "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || end < start {
		return "", 0, fmt.Errorf("bench: HASH reply range %q", f[1])
	}
	return f[0], end - start + 1, nil
}
