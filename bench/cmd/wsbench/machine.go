package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

func machine() Machine {
	m := Machine{NProc: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		m.MemGiB = int64(si.Totalram) * int64(si.Unit) >> 30
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.NoFile = rl.Cur
	}
	return m
}

// versions reads the library versions from bench/go.mod and node_modules, so the
// report names what was measured.
func versions(dir string) map[string]string {
	v := map[string]string{"go": runtime.Version()}
	if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) >= 2 && !strings.HasPrefix(f[0], "//") {
				if f[0] == "require" && len(f) >= 3 {
					f = f[1:]
				}
				for _, mod := range []string{"github.com/gorilla/websocket", "github.com/gobwas/ws",
					"github.com/lxzan/gws", "github.com/lesismal/nbio", "github.com/coder/websocket",
					"gonum.org/v1/plot"} {
					if f[0] == mod {
						v[mod] = f[1]
					}
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "servers/nodews/node_modules/ws/package.json")); err == nil {
		var p struct{ Version string }
		if json.Unmarshal(b, &p) == nil {
			v["ws (npm)"] = p.Version
		}
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		v["node"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "-C", dir, "rev-parse", "--short", "HEAD").Output(); err == nil {
		v["weir (git HEAD, tree may be dirty)"] = strings.TrimSpace(string(out))
	}
	return v
}
