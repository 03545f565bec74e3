// The comparison chart: one group of horizontal bars per suite step, one bar per server, as SVG.
package bench

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// Metric is the number a chart and a comparison table show for a result.
type Metric struct {
	Value       float64
	Unit        string // e.g. "files/s", "GiB/s", "KiB/session", "ms p99"
	LowerBetter bool
}

// MetricOf picks the headline number of a result: memory per session for
// idle (when measured), p99 latency for noop among held sessions, bytes per
// second for large transfers, operations per second otherwise.
func MetricOf(r *Result) Metric {
	switch {
	case r.Idle != nil && r.Idle.PSSPerSession > 0:
		return Metric{r.Idle.PSSPerSession / 1024, "KiB/session", true}
	case r.Slow != nil:
		v, system := r.Slow.TCPPerTransfer()
		if system {
			return Metric{v / 1024, "KiB TCP memory/transfer (system)", true}
		}
		return Metric{v / 1024, "KiB TCP memory/transfer", true}
	case r.Scenario == "noop" && r.Held > 0:
		return Metric{float64(r.Latency.P99) / 1e6, "ms p99", true}
	case strings.HasPrefix(r.Scenario, "large-"):
		return Metric{r.BytesPerSec / (1 << 30), "GiB/s", false}
	}
	return Metric{r.OpsPerSec, r.Unit + "/s", false}
}

// ChartRow is one group of bars.
type ChartRow struct {
	Label  string
	Metric Metric             // unit and direction (Value unused)
	Values map[string]float64 // server → value; missing servers have no bar
}

// chartColors are the bar colours, one per server in order.
var chartColors = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"}

// WriteSVG draws rows of bars for servers (in that order, each in its own
// colour), each group scaled to its largest value, with the value printed
// beside each bar. Servers without a value in a row get no bar there.
func WriteSVG(w io.Writer, title string, servers []string, rows []ChartRow) error {
	const (
		left, barMax, right = 190, 520, 150
		barH, gap, top      = 14, 12, 60
	)
	width := left + barMax + right
	height := top + 20
	for _, r := range rows {
		height += max(2, len(r.Values))*barH + gap
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for i, s := range servers {
		x := 10 + i*130
		fmt.Fprintf(&b, `<rect x="%d" y="32" width="12" height="12" fill="%s"/><text x="%d" y="42">%s</text>`+"\n", x, chartColors[i%len(chartColors)], x+16, html.EscapeString(s))
	}
	y := top
	for _, r := range rows {
		peak := 0.0
		for _, v := range r.Values {
			peak = max(peak, v)
		}
		label := r.Label
		unit := r.Metric.Unit
		if r.Metric.LowerBetter {
			unit += ", lower is better"
		}
		groupH := max(2, len(r.Values)) * barH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-weight="bold">%s</text>`+"\n", left-8, y+groupH/2, html.EscapeString(label))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#555">%s</text>`+"\n", left-8, y+groupH/2+12, html.EscapeString(unit))
		slot := 0
		for i, s := range servers {
			v, ok := r.Values[s]
			if !ok {
				continue // a server without this step (the ceiling only sends files) gets no bar
			}
			by := y + slot*barH
			slot++
			wpx := 0.0
			if peak > 0 {
				wpx = v / peak * barMax
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, by+1, wpx, barH-2, chartColors[i%len(chartColors)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(left)+wpx+4, by+barH-3, html.EscapeString(formatMetric(v)))
		}
		y += groupH + gap
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// formatMetric prints a metric value with three significant digits.
func formatMetric(v float64) string {
	switch {
	case v >= 1000:
		return group(int64(v + 0.5))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// ChartRows groups results by step (in first-seen order) with one value
// per server. Several results of one server and step (repeated runs) are
// reduced to their median.
func ChartRows(servers []string, results []*Result) []ChartRow {
	var order []string
	byStep := map[string]map[string][]*Result{}
	for _, r := range results {
		n := r.Name()
		if byStep[n] == nil {
			byStep[n] = map[string][]*Result{}
			order = append(order, n)
		}
		byStep[n][r.Server] = append(byStep[n][r.Server], r)
	}
	var rows []ChartRow
	for _, n := range order {
		row := ChartRow{Label: n, Values: map[string]float64{}}
		for _, s := range servers {
			rs := byStep[n][s]
			if len(rs) == 0 {
				continue
			}
			m := MedianResult(rs)
			row.Metric = MetricOf(m)
			row.Values[s] = row.Metric.Value
		}
		rows = append(rows, row)
	}
	return rows
}

// MedianResult returns the result whose headline metric is the median of
// rs (the lower middle for an even count).
func MedianResult(rs []*Result) *Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b *Result) int { return cmp.Compare(MetricOf(a).Value, MetricOf(b).Value) })
	return s[(len(s)-1)/2]
}
