// Server memory and CPU time: RSS and PSS of a process and all its descendants, from /proc/PID/smaps_rollup, and their CPU time from /proc/PID/stat (or a control group, cpugroup.go).
package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ParseSmapsRollup returns the Pss value of an smaps_rollup (or smaps) file
// in bytes, summing every "Pss:" line (smaps has one per mapping; the
// Pss_Anon/Pss_File/... breakdown lines are not counted).
func ParseSmapsRollup(r io.Reader) (int64, error) {
	m, err := ParseSmapsMemory(r)
	return m.PSS, err
}

// Memory is the resident memory of a process, or of several summed.
type Memory struct {
	RSS   int64 `json:"rss"`   // resident set: pages shared with other processes count in full in each
	PSS   int64 `json:"pss"`   // proportional set: a shared page counts a share in each process
	Procs int   `json:"procs"` // processes summed
}

// ParseSmapsMemory returns the Rss and Pss values of an smaps_rollup (or
// smaps) file in bytes, each summed over its lines ("Rss:", "Pss:"; the
// Pss_Anon/Pss_File/... breakdown lines are not counted). A file without a
// Pss line is an error; one without an Rss line has RSS 0.
func ParseSmapsMemory(r io.Reader) (Memory, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var m Memory
	found := false
	for sc.Scan() {
		line := sc.Bytes()
		dst := &m.PSS
		rest, ok := bytes.CutPrefix(line, []byte("Pss:"))
		if !ok {
			if rest, ok = bytes.CutPrefix(line, []byte("Rss:")); !ok {
				continue
			}
			dst = &m.RSS
		} else {
			found = true
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return Memory{}, fmt.Errorf("bench: smaps: malformed line %q", line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return Memory{}, fmt.Errorf("bench: smaps: malformed line %q", line)
		}
		*dst += kb * 1024
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("bench: smaps: %w", err)
	}
	if !found {
		return Memory{}, errors.New("bench: smaps: no Pss line")
	}
	m.Procs = 1
	return m, nil
}

// parseStatPPID returns the parent PID from the text of /proc/PID/stat. The
// command name (field 2) may hold spaces and parentheses, so the fields are
// read after its last ')'.
func parseStatPPID(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("bench: malformed stat %q", stat)
	}
	return strconv.Atoi(f[1])
}

// Descendants returns pid and every process below it, read from procRoot
// (normally "/proc"). Processes that vanish while it reads are skipped.
func Descendants(procRoot string, pid int) ([]int, error) {
	if _, err := os.Stat(filepath.Join(procRoot, strconv.Itoa(pid))); err != nil {
		return nil, fmt.Errorf("bench: process %d: %w", pid, err)
	}
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p <= 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat"))
		if err != nil {
			continue
		}
		pp, err := parseStatPPID(string(b))
		if err != nil {
			continue
		}
		children[pp] = append(children[pp], p)
	}
	out := []int{pid}
	seen := map[int]bool{pid: true}
	for i := 0; i < len(out); i++ { // bounded: each pid enters once
		for _, c := range children[out[i]] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// PSS returns the proportional set size of pid and all its descendants in
// bytes, and how many processes it summed. Processes that exit while it
// reads are skipped; the root process must be readable.
func PSS(procRoot string, pid int) (bytes int64, procs int, err error) {
	m, err := ProcessMemory(procRoot, pid)
	return m.PSS, m.Procs, err
}

// ProcessMemory returns the RSS and PSS of pid and all its descendants,
// summed, and how many processes it summed. Processes that exit while it
// reads are skipped; the root process must be readable. Summed RSS counts
// every shared page once per process that maps it: PSS is the fair sum.
func ProcessMemory(procRoot string, pid int) (Memory, error) {
	pids, err := Descendants(procRoot, pid)
	if err != nil {
		return Memory{}, err
	}
	var sum Memory
	for i, p := range pids {
		f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(p), "smaps_rollup"))
		if err != nil {
			if i == 0 {
				return Memory{}, fmt.Errorf("bench: process %d: %w", p, err)
			}
			continue
		}
		m, err := ParseSmapsMemory(f)
		f.Close()
		if err != nil {
			if i == 0 {
				return Memory{}, fmt.Errorf("bench: process %d: %w", p, err)
			}
			continue
		}
		sum.RSS += m.RSS
		sum.PSS += m.PSS
		sum.Procs++
	}
	return sum, nil
}

// ProcessFileLimit reads the soft "Max open files" limit of pid from
// procRoot/PID/limits; it returns -1 for "unlimited".
func ProcessFileLimit(procRoot string, pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "limits"))
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return parseLimitsNOFILE(string(b))
}

func parseLimitsNOFILE(s string) (int64, error) {
	for line := range strings.SplitSeq(s, "\n") {
		rest, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			break
		}
		if f[0] == "unlimited" {
			return -1, nil
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("bench: limits: no \"Max open files\" line")
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTicks = 100

// parseStatCPU returns utime+stime+cutime+cstime (fields 14-17) of the
// text of /proc/PID/stat, in clock ticks: the process's own CPU time and
// that of its children it has already reaped.
func parseStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, fmt.Errorf("bench: malformed stat %q", stat)
	}
	var sum int64
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("bench: malformed stat %q", stat)
		}
		sum += v
	}
	return sum, nil
}

// CPUTime returns the CPU time used so far by pid and its descendants,
// including descendants that already exited and were reaped (a server that
// forks a process per session reaps it when the session ends). Its
// resolution is one clock tick, 10 ms. For a pid given to TrackCPU it
// reads the control group instead: nanoseconds, and every process that
// ran there, reaped or not.
func CPUTime(procRoot string, pid int) (time.Duration, error) {
	if d, ok, err := trackedCPUTime(pid); ok {
		return d, err
	}
	pids, err := Descendants(procRoot, pid)
	if err != nil {
		return 0, err
	}
	var ticks int64
	for i, p := range pids {
		b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(p), "stat"))
		if err == nil {
			var t int64
			if t, err = parseStatCPU(string(b)); err == nil {
				ticks += t
				continue
			}
		}
		if i == 0 {
			return 0, fmt.Errorf("bench: process %d: %w", p, err)
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
