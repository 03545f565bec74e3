// A one-line description of the machine for reports.
package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes this machine: CPU model, cores, memory, kernel, its
// TCP congestion control, Go.
func Machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = ", " + FormatBytes(float64(kb)*1024) + " RAM"
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores%s%s%s, %s", cpu, runtime.NumCPU(), mem, kernel, congestion(congestionPath), runtime.Version())
}

// congestionPath holds the congestion control new TCP connections get.
const congestionPath = "/proc/sys/net/ipv4/tcp_congestion_control"

// congestion names the congestion control in the file at path for the
// machine line ("" when it cannot be read). It decides what one stream
// costs on loopback: bbr paces each connection itself unless a qdisc does,
// with a timer per segment, and that timer work is most of a large
// download's CPU on either end (bench/README.md, "What one stream costs").
func congestion(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(string(b))
	if name == "" {
		return ""
	}
	return ", TCP congestion control " + name
}
