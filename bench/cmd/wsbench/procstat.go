package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// What a ratio cell reads about the server process besides its CPU: context
// switches and run-queue wait from /proc, the load average, and perf stat's counts.

// ctxSwitches sums voluntary and involuntary context switches over pid's threads.
func ctxSwitches(pid int) (vol, nonvol float64) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	for _, t := range tasks {
		f, err := os.Open(t)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				vol += n
			} else if v, ok := strings.CutPrefix(sc.Text(), "nonvoluntary_ctxt_switches:"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
				nonvol += n
			}
		}
		f.Close()
	}
	return vol + nonvol, nonvol
}

// runqWait sums, over pid's threads, the ns spent runnable but waiting for a CPU
// (the second field of /proc/PID/task/TID/schedstat).
func runqWait(pid int) float64 {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum float64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) >= 2 {
			n, _ := strconv.ParseFloat(f[1], 64)
			sum += n
		}
	}
	return sum
}

func load1() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// parsePerf reads perf stat -x, output into counts per message.
func parsePerf(b []byte, msgs float64) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			continue
		}
		name := f[2]
		name = strings.TrimPrefix(name, "syscalls:sys_enter_")
		name = strings.TrimPrefix(name, "raw_syscalls:sys_enter")
		if name == "" {
			name = "syscalls"
		}
		m[name] = v / msgs
	}
	return m
}
