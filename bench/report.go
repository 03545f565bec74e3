// Reports: the text table, JSON, and number formatting.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what -json writes: the run's context and every result.
type Report struct {
	Started  time.Time `json:"started"`
	Machine  string    `json:"machine,omitempty"`
	Command  string    `json:"command,omitempty"`
	Results  []*Result `json:"results"`
	Warnings []string  `json:"warnings,omitempty"`
	// Clients is the client matrix of ftpbench compare -clients.
	Clients *ClientMatrix `json:"clients,omitempty"`
	// CPUSources says, per server, where its CPU time was read: "cgroup v1
	// cpuacct" or "cgroup v2" for a control group of its own (TrackCPU),
	// ProcCPUSource where none could be made.
	CPUSources map[string]string `json:"cpu_sources,omitempty"`
	// Sched says, per server, how the kernel scheduled it against the load
	// generator: "cgroup v1 cpu" or "cgroup v2 cpu" for a cpu control group
	// of its own (TrackedSched), "" where its processes were weighed one by
	// one.
	Sched map[string]string `json:"sched,omitempty"`
	// PageReporting says how the guest's free page reporting to its host
	// was set for the run (HoldPageReporting); "" where it has none.
	PageReporting string `json:"page_reporting,omitempty"`
}

// WriteJSON writes r to path (indented).
func WriteJSON(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: json: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: json: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench: json: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("bench: json: %s: %w", path, err)
	}
	return &r, nil
}

// FormatBytes formats a byte count with a binary unit: "4.0 KiB", "1.23 GiB".
func FormatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return fmt.Sprintf("%.0f B", v)
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, units[i])
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, units[i])
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

// FormatRate formats a rate per second with a thousands separator.
func FormatRate(v float64) string {
	if v >= 100 {
		return group(int64(v + 0.5))
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func group(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + group(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatLatency formats nanoseconds as µs or ms.
func FormatLatency(ns int64) string {
	switch d := time.Duration(ns); {
	case ns == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(ns)/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(ns)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(ns)/1e6)
	}
	return fmt.Sprintf("%.2fs", float64(ns)/1e9)
}

// WriteTable prints results as a table, followed by their notes and errors.
func WriteTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tserver\tconc\tops\trate\tunit/s\tthroughput\tper stream\tp50\tp99\tp99.9\terrors\t")
	for _, r := range results {
		thr, stream := "-", "-"
		if r.BytesPerSec > 0 {
			thr = FormatBytes(r.BytesPerSec) + "/s"
		}
		if r.StreamBytesPerSec > 0 {
			stream = FormatBytes(r.StreamBytesPerSec) + "/s"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Name(), r.Server, r.Concurrency, group(r.Ops), FormatRate(r.OpsPerSec), r.Unit, thr, stream,
			FormatLatency(r.Latency.P50), FormatLatency(r.Latency.P99), FormatLatency(r.Latency.P999), group(r.Errors))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Notes) == 0 && r.Errors == 0 && !r.Interrupted {
			continue
		}
		fmt.Fprintf(w, "\n%s (%s):\n", r.Name(), r.Server)
		if r.Interrupted {
			fmt.Fprintf(w, "  interrupted: the numbers cover part of the run\n")
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
		if r.Errors > 0 {
			fmt.Fprintf(w, "  %s errors:\n", group(r.Errors))
			for _, k := range sortedKinds(r.ErrorKinds) {
				fmt.Fprintf(w, "    %8s × %s\n", group(r.ErrorKinds[k]), k)
			}
		}
	}
	return nil
}
