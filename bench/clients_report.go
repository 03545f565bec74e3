// The client matrix in reports: medians per client, direction and server, ratios to rftpd beside the control's, every round.
package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// clientCell summarizes one server's runs for one client and direction.
type clientCell struct {
	cpu, rate []float64 // per round: ms CPU per GiB, bytes/s
	ratio     []float64 // per round: CPU per GiB over rftpd's in the same round
	// shared, sharedRatio: the same for the busy time of the CPU server
	// and client shared (ClientRun.SharedCPU), where measured
	shared, sharedRatio []float64
	failed              int
}

func (c clientCell) measured() bool { return len(c.cpu) > 0 }

// clientRow is one client and direction: a cell per server.
type clientRow struct {
	client, direction string
	cells             map[string]*clientCell
}

// clientRows summarizes m's runs, in the order of m.Clients and the
// directions.
func clientRows(m *ClientMatrix) []clientRow {
	type key struct{ client, dir string }
	type rkey struct {
		key
		round int
	}
	base := map[rkey]float64{}       // rftpd's CPU per GiB in each round
	sharedBase := map[rkey]float64{} // ... and the shared CPU's
	for _, r := range m.Runs {
		if r.Server != "rftpd" {
			continue
		}
		k := rkey{key{r.Client, r.Direction}, r.Round}
		if v, ok := r.CPUPerGiB(); ok {
			base[k] = v
		}
		if v, ok := r.SharedPerGiB(); ok {
			sharedBase[k] = v
		}
	}
	cells := map[key]map[string]*clientCell{}
	for _, r := range m.Runs {
		k := key{r.Client, r.Direction}
		if cells[k] == nil {
			cells[k] = map[string]*clientCell{}
		}
		c := cells[k][r.Server]
		if c == nil {
			c = &clientCell{}
			cells[k][r.Server] = c
		}
		if !r.OK() {
			c.failed++
			continue
		}
		c.rate = append(c.rate, r.Rate())
		if v, ok := r.SharedPerGiB(); ok {
			c.shared = append(c.shared, v)
			if b := sharedBase[rkey{k, r.Round}]; b > 0 && r.Server != "rftpd" {
				c.sharedRatio = append(c.sharedRatio, v/b)
			}
		}
		v, ok := r.CPUPerGiB()
		if !ok {
			continue
		}
		c.cpu = append(c.cpu, v)
		if b := base[rkey{k, r.Round}]; b > 0 && r.Server != "rftpd" {
			c.ratio = append(c.ratio, v/b)
		}
	}
	var rows []clientRow
	for _, client := range m.Clients {
		for _, dir := range []string{Download, Upload} {
			if c := cells[key{client, dir}]; c != nil {
				rows = append(rows, clientRow{client, dir, c})
			}
		}
	}
	return rows
}

// peers are the servers compared with rftpd: neither it nor the control.
func (m *ClientMatrix) peers() []string {
	var out []string
	for _, s := range m.Servers {
		if s != "rftpd" && s != ClientControl {
			out = append(out, s)
		}
	}
	return out
}

// lowest returns the server, of those named, with the lowest median CPU
// per GiB in row; "" when none was measured.
func (row clientRow) lowest(servers []string) string {
	best, bestV := "", 0.0
	for _, s := range servers {
		if c := row.cells[s]; c != nil && c.measured() {
			if v := medianOf(c.cpu); best == "" || v < bestV {
				best, bestV = s, v
			}
		}
	}
	return best
}

// ratioText is "×1.23 (1.10–1.30)": the median and the middle half.
func ratioText(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("×%.2f (%.2f–%.2f)", medianOf(v), quantileOf(v, 0.25), quantileOf(v, 0.75))
}

// clientShort is a server's name in a round's order.
func clientShort(s string) string {
	switch s {
	case "rftpd":
		return "r"
	case ClientControl:
		return "r2"
	case "vsftpd":
		return "v"
	case "pure-ftpd":
		return "p"
	case "proftpd":
		return "pro"
	}
	return s
}

// clientSection writes the client matrix's section of the comparison.
func clientSection(p func(string, ...any), m *ClientMatrix, cpuSources string) {
	rows := clientRows(m)
	p("\n## Client matrix\n\n")
	var names []string
	for _, c := range m.Clients {
		if v := m.Versions[c]; v != "" {
			names = append(names, c+" "+v)
		} else {
			names = append(names, c)
		}
	}
	p("Real clients fetch the %s file from each server and send it back: %s.", FormatBytes(float64(m.Size)), strings.Join(names, ", "))
	for _, c := range m.Clients {
		switch {
		case c == SelfClient:
			p(" ftpbench is this program's own client, run as a process of its own (one large-get, spliced into /dev/null): " +
				"the suite's large-get 1 in the matrix's rounds; it only downloads here (its uploads are the suite's large-put rows).")
		case !CanUpload(c):
			p(" %s cannot upload over FTP, so it only downloads.", c)
		}
	}
	p("\n\n")
	p("- A download is a RETR into /dev/null; an upload, a STOR of the same file from the data set to a name removed before and after " +
		"each upload, so every STOR creates a file. rftpd writes uploads in place and without fsync here " +
		"(`atomic_uploads = false`, `durable_uploads = false`), as the peers do.\n")
	p("- A figure is the server's CPU time, its process and all its descendants, " + cpuSources + ", " +
		"from just before the client starts until the client has exited and the server is back to the processes it had, per GiB moved: " +
		"login and logout included, as in the rate (the file's size over the client's run). Downloads log in anonymously; " +
		"uploads to the writable account, so each includes one password check (rftpd: bcrypt; the peers: the system's crypt), tens of milliseconds.\n")
	p("- %d round(s); in each, every client and direction runs against every server back to back, in an order that changes from round to round: "+
		"over %d rounds every server runs in every place, and straight after every other, equally often.\n", m.Rounds, ClientCycle(len(m.Servers)))
	if m.Placement != "" {
		p("- %s\n", placementWhy(m.Placement, "every thread of each server's process tree stays on its CPU for the whole matrix, and each client starts on its own"))
	}
	if m.PinNote != "" {
		p("- %s.\n", strings.TrimSuffix(m.PinNote, "."))
	}
	p("- `%s` is a second, identical rftpd, the control: its ratio to rftpd is what the method reads between two equal servers, "+
		"so a peer's ratio means something only as far as it lies outside the control's.\n\n", ClientControl)
	p("Each cell: the median server CPU per GiB (lower is better) and the median rate; below it, the median over the rounds of the server's CPU " +
		"over rftpd's in the same round (× > 1: rftpd spent less), with the middle half of the rounds in brackets.\n\n")
	serverHeader(p, m.Servers, " lowest CPU |", "---|")
	var lowestOf []string // the control is rftpd
	for _, s := range m.Servers {
		if s != ClientControl {
			lowestOf = append(lowestOf, s)
		}
	}
	for _, row := range rows {
		p("| %s | %s |", row.client, row.direction)
		for _, s := range m.Servers {
			c := row.cells[s]
			if c == nil || len(c.rate) == 0 {
				p(" – |")
				continue
			}
			cell := "– ms/GiB"
			if c.measured() {
				cell = fmt.Sprintf("%.0f ms/GiB", medianOf(c.cpu))
			}
			cell += ", " + FormatBytes(medianOf(c.rate)) + "/s"
			if s != "rftpd" && len(c.ratio) > 0 {
				cell += "<br>" + ratioText(c.ratio)
			}
			if c.failed > 0 {
				cell += fmt.Sprintf("<br>%d failed", c.failed)
			}
			p(" %s |", cell)
		}
		lowest := row.lowest(lowestOf)
		if lowest == "" {
			lowest = "–"
		}
		p(" %s |\n", lowest)
	}

	p("\nThe target is met when the best peer's median ratio is ×1.00 or more. It is within the noise when the middle half of that peer's rounds " +
		"includes ×1.00, or when the control's median ratio is as far from ×1.00, either way, as the peer's.\n")
	p("\n| target: rftpd's CPU per GiB at or below the best peer's | best peer | its CPU over rftpd's | control over rftpd | met |\n|---|---|---|---|---|\n")
	for _, row := range rows {
		best := row.lowest(m.peers())
		ctl := row.cells[ClientControl]
		var ctlRatio []float64
		if ctl != nil {
			ctlRatio = ctl.ratio
		}
		if best == "" || len(row.cells[best].ratio) == 0 {
			p("| %s %s | – | – | %s | not measured |\n", row.client, row.direction, ratioText(ctlRatio))
			continue
		}
		c := row.cells[best]
		met := "no"
		if medianOf(c.ratio) >= 1 {
			met = "yes"
		}
		if !resolved(c.ratio, ctlRatio) {
			met += " (within the noise)"
		}
		p("| %s %s | %s, %.0f ms/GiB | %s | %s | %s |\n", row.client, row.direction, best, medianOf(c.cpu), ratioText(c.ratio), ratioText(ctlRatio), met)
	}

	sharedSection(p, m, rows)

	var legend []string
	for _, s := range m.Servers {
		legend = append(legend, clientShort(s)+": "+s)
	}
	p("\n<details><summary>Every round: server CPU in ms per GiB, in the order run (%s)</summary>\n\n", strings.Join(legend, ", "))
	p("| round | client | direction | order |")
	for _, s := range m.Servers {
		p(" %s |", s)
	}
	p("\n|---:|---|---|---|")
	for range m.Servers {
		p("---:|")
	}
	p("\n")
	type key struct {
		round             int
		client, direction string
	}
	byRound := map[key][]*ClientRun{}
	var keys []key
	for _, r := range m.Runs {
		k := key{r.Round, r.Client, r.Direction}
		if byRound[k] == nil {
			keys = append(keys, k)
		}
		byRound[k] = append(byRound[k], r)
	}
	for _, k := range keys {
		runs := byRound[k]
		var order []string
		cells := map[string]string{}
		for _, r := range runs {
			order = append(order, clientShort(r.Server))
			switch v, ok := r.CPUPerGiB(); {
			case ok:
				cells[r.Server] = fmt.Sprintf("%.0f", v)
			case r.OK():
				cells[r.Server] = "?"
			default:
				cells[r.Server] = "failed"
			}
		}
		p("| %d | %s | %s | %s |", k.round, k.client, k.direction, strings.Join(order, " "))
		for _, s := range m.Servers {
			if v, ok := cells[s]; ok {
				p(" %s |", v)
			} else {
				p(" – |")
			}
		}
		p("\n")
	}
	p("\n</details>\n")

	var failed []*ClientRun
	for _, r := range m.Runs {
		if !r.OK() {
			failed = append(failed, r)
		}
	}
	if len(failed) > 0 {
		p("\n%d of %d client runs failed", len(failed), len(m.Runs))
		if len(failed) > 10 {
			p(" (the first 10)")
		}
		p(":\n\n")
		for _, r := range failed[:min(10, len(failed))] {
			p("- round %d, %s %s, %s: %s\n", r.Round, r.Client, r.Direction, r.Server, r.Error)
		}
	}
}

// serverHeader writes the head of a matrix table: client, direction, a
// column per server (the control marked) and, when more is set, one more
// column with its separator cell sep.
func serverHeader(p func(string, ...any), servers []string, more, sep string) {
	p("| client | direction |")
	for _, s := range servers {
		if s == ClientControl {
			p(" %s (control) |", s)
		} else {
			p(" %s |", s)
		}
	}
	p("%s\n|---|---|", more)
	for range servers {
		p("---:|")
	}
	p("%s\n", sep)
}

// hasShared reports whether some server's runs in row measured the
// shared CPU.
func (row clientRow) hasShared() bool {
	for _, c := range row.cells {
		if len(c.shared) > 0 {
			return true
		}
	}
	return false
}

// sharedSection writes the table of the shared CPU's busy time per GiB,
// when any run measured it.
func sharedSection(p func(string, ...any), m *ClientMatrix, rows []clientRow) {
	if !slices.ContainsFunc(rows, clientRow.hasShared) {
		return
	}
	p("\n### The CPU both ran on, in all\n\n")
	p("On loopback the sender's call also carries each packet into the receiver's socket, and how much of that work falls to the server, " +
		"to the client or to the kernel's softirq thread moves with the send buffer and with scheduling: a server could lower its own figure above " +
		"while the transfer as a whole costs more (bench/cpubusy.go has a measured case). With server and client on one CPU, that CPU's busy time " +
		"(user, system, irq and softirq, from /proc/stat in 10 ms ticks) over the same span is the cost no such shift lowers. " +
		"Each cell: its median per GiB; below it, the median over the rounds of the server's figure over rftpd's in the same round, " +
		"with the middle half in brackets.\n\n")
	serverHeader(p, m.Servers, "", "")
	for _, row := range rows {
		if !row.hasShared() {
			continue
		}
		p("| %s | %s |", row.client, row.direction)
		for _, s := range m.Servers {
			c := row.cells[s]
			if c == nil || len(c.shared) == 0 {
				p(" – |")
				continue
			}
			cell := fmt.Sprintf("%.0f ms/GiB", medianOf(c.shared))
			if s != "rftpd" && len(c.sharedRatio) > 0 {
				cell += "<br>" + ratioText(c.sharedRatio)
			}
			p(" %s |", cell)
		}
		p("\n")
	}
}

// resolved reports whether a server's ratios to rftpd (per round) tell it
// from rftpd: not when the middle half of its rounds includes ×1, nor
// when the control's median ratio, which would be ×1 without noise, is at
// least as far from ×1 (as a factor, either way) as the server's.
func resolved(ratio, control []float64) bool {
	if len(ratio) == 0 {
		return false
	}
	if quantileOf(ratio, 0.25) <= 1 && 1 <= quantileOf(ratio, 0.75) {
		return false
	}
	return len(control) == 0 || math.Abs(math.Log(medianOf(ratio))) > math.Abs(math.Log(medianOf(control)))
}

// WriteClientTable prints the matrix's medians as a text table.
func WriteClientTable(w io.Writer, m *ClientMatrix) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client\tdirection\tserver\trounds\tCPU ms/GiB\trate\tCPU / rftpd's\tin all ms/GiB\tfailed\t")
	for _, row := range clientRows(m) {
		for _, s := range m.Servers {
			c := row.cells[s]
			if c == nil {
				continue
			}
			cpu, rate, ratio, all := "-", "-", "-", "-"
			if len(c.shared) > 0 {
				all = fmt.Sprintf("%.0f", medianOf(c.shared))
			}
			if c.measured() {
				cpu = fmt.Sprintf("%.0f", medianOf(c.cpu))
			}
			if len(c.rate) > 0 {
				rate = FormatBytes(medianOf(c.rate)) + "/s"
			}
			if len(c.ratio) > 0 {
				ratio = ratioText(c.ratio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%d\t\n", row.client, row.direction, s, len(c.rate), cpu, rate, ratio, all, c.failed)
		}
	}
	return tw.Flush()
}
