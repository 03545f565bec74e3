// The interleaved steps' rounds in the report: each server's CPU per operation over rftpd's in the same round, and the target met or not.
package bench

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// roundRow is one interleaved step's rounds that rftpd ran in: per
// server, its cost in each and that cost over rftpd's in the same round.
type roundRow struct {
	step   string
	unit   string
	rounds int
	cost   map[string][]float64 // server → cost per round it ran
	ratio  map[string][]float64 // server → cost over rftpd's, per round both ran
}

// roundRows gathers the rounds (Result.Round) of the steps, in steps'
// order; a step without rounds has no row.
func roundRows(results []*Result, steps []Step) []roundRow {
	var rows []roundRow
	for _, st := range steps {
		by := map[int]map[string]float64{}
		row := roundRow{step: st.Label, cost: map[string][]float64{}, ratio: map[string][]float64{}}
		for _, r := range results {
			if r.Round == 0 || r.Pair != 0 || r.Name() != st.Label {
				continue
			}
			v, unit := CPUCost(r)
			if unit == "" {
				continue
			}
			row.unit = unit
			if by[r.Round] == nil {
				by[r.Round] = map[string]float64{}
			}
			by[r.Round][r.Server] = v
		}
		for _, n := range slices.Sorted(maps.Keys(by)) {
			base, ok := by[n]["rftpd"]
			if !ok {
				continue // a round cut short before rftpd's part
			}
			row.rounds++
			for s, v := range by[n] {
				row.cost[s] = append(row.cost[s], v)
				if s != "rftpd" {
					row.ratio[s] = append(row.ratio[s], v/base)
				}
			}
		}
		if row.rounds == 0 {
			continue
		}
		rows = append(rows, row)
	}
	return rows
}

// bestPeer is the peer (neither rftpd, its control, the ceiling nor the
// floor) with the lowest median cost in row; "" when none ran.
func (row roundRow) bestPeer(servers []string) string {
	best, bestV := "", 0.0
	for _, s := range servers {
		if s == "rftpd" || s == ClientControl || s == "ceiling" || s == "floor" || len(row.cost[s]) == 0 {
			continue
		}
		if v := medianOf(row.cost[s]); best == "" || v < bestV {
			best, bestV = s, v
		}
	}
	return best
}

// roundsSection writes the interleaved steps' rounds: every server's
// median ratio to rftpd within a round, the control's, and whether rftpd
// spent no more than the best peer.
func roundsSection(p func(string, ...any), results []*Result, servers []string, steps []Step, perRun int) {
	_, inter := SplitInterleaved(steps)
	rows := roundRows(results, inter)
	if len(rows) == 0 {
		return
	}
	cols := []string{ClientControl}
	for _, s := range servers {
		if s != "rftpd" && slices.ContainsFunc(rows, func(r roundRow) bool { return len(r.ratio[s]) > 0 }) {
			cols = append(cols, s)
		}
	}
	each := ""
	if perRun > 0 && len(inter) > 0 {
		each = fmt.Sprintf(" for %g s each (the step's duration over the %d rounds of a run)", RoundStep(inter[0], perRun).Duration.Round(time.Second).Seconds(), perRun)
	}
	p("## The interleaved steps, round by round\n\n")
	p("Each interleaved step ran in rounds: in each, every server and a second rftpd started the same way (%s, the control) ran the step back to back%s. "+
		"Below, each server's CPU per operation over rftpd's in the same round: the median over the rounds and, in brackets, the middle half "+
		"(× > 1: rftpd cheaper). Without noise the control would read ×1.00. The target is met when the best peer's median ratio is ×1.00 or more; "+
		"it is within the noise when the middle half of that peer's rounds includes ×1.00, or when the control's median is as far from ×1.00, either way, as the peer's. "+
		"These ratios, not the medians of the tables above, decide the interleaved rows.\n\n", ClientControl, each)
	p("| step | rounds | rftpd |")
	for _, s := range cols {
		p(" %s |", s)
	}
	p(" best peer | met |\n|---|---:|---:|")
	for range cols {
		p("---:|")
	}
	p("---|---|\n")
	for _, row := range rows {
		p("| %s | %d | ", row.step, row.rounds)
		if c := row.cost["rftpd"]; len(c) > 0 {
			p("%s %s |", formatMetric(medianOf(c)), row.unit)
		} else {
			p("– |")
		}
		for _, s := range cols {
			p(" %s |", ratioText(row.ratio[s]))
		}
		best := row.bestPeer(servers)
		if best == "" || len(row.ratio[best]) == 0 {
			p(" – | not measured |\n")
			continue
		}
		met := "no"
		if medianOf(row.ratio[best]) >= 1 {
			met = "yes"
		}
		if !resolved(row.ratio[best], row.ratio[ClientControl]) {
			met += " (within the noise)"
		}
		p(" %s, %s %s | %s |\n", best, formatMetric(medianOf(row.cost[best])), row.unit, met)
	}
	p("\n")
}
