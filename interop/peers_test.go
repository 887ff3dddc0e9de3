package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The peers of the matrix. Add one by giving its spec here and, for a new
// language, an agent (see doc.go).

// replyKind is how a peer answers a close frame it did not start: what weir's
// OnClose then reports when weir closed first.
type replyKind int

const (
	replyCodeReason replyKind = iota // echoes the code and the reason
	replyCode                        // echoes the code, no reason
	reply1000                        // always 1000, no reason
)

func (k replyKind) expect(code int, reason string) (int, string) {
	switch k {
	case replyCodeReason:
		return code, reason
	case replyCode:
		return code, ""
	}
	return 1000, ""
}

type peerSpec struct {
	name  string // column heading
	about string // where it comes from
	// probe says whether the peer is installed and its version.
	probe     func() (string, error)
	newServer func() (serverPeer, error) // nil: the peer has no server role here
	newClient func() (clientPeer, error) // nil: no client role
	// v8Client: the peer can dial with Sec-WebSocket-Version: 8.
	v8Client bool
	// v8Server: the peer's server accepts version 8.
	v8Server bool
	// closeReply is how the peer answers weir's close frame.
	closeReply replyKind
	// install says what to install when the probe does not find the peer.
	install string
}

// nodeLib probes an npm package installed by `npm ci` in this folder.
func nodeLib(name string) func() (string, error) {
	return func() (string, error) {
		if _, err := exec.LookPath("node"); err != nil {
			return "", fmt.Errorf("%w: node: %v", errPeerMissing, err)
		}
		b, err := os.ReadFile(filepath.Join("node_modules", name, "package.json"))
		if err != nil {
			return "", fmt.Errorf("%w: %s (run npm ci in interop/): %v", errPeerMissing, name, err)
		}
		var pkg struct{ Version string }
		if err := json.Unmarshal(b, &pkg); err != nil {
			return "", err
		}
		return pkg.Version, nil
	}
}

// debianPython is Debian's interpreter, which sees python3-websockets (the
// python3 first on PATH may be another install that does not).
const debianPython = "/usr/bin/python3"

func probePython() (string, error) {
	out, err := exec.Command(debianPython, "-c", "import websockets; print(websockets.__version__)").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%w: python3-websockets: %v: %s", errPeerMissing, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

const chromiumPath = "/usr/bin/chromium"

func probeChromium() (string, error) {
	if _, err := nodeLib("playwright-core")(); err != nil {
		return "", err
	}
	out, err := exec.Command(chromiumPath, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%w: chromium: %v", errPeerMissing, err)
	}
	v := strings.TrimSpace(string(out))
	if f := strings.Fields(v); len(f) >= 2 {
		v = f[1]
	}
	return v, nil
}

// goModule reads a Go library's version from this module's go.mod (test binaries
// carry no dependency versions in their build info).
func goModule(path string) func() (string, error) {
	return func() (string, error) {
		b, err := os.ReadFile("go.mod")
		if err != nil {
			return "", err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == path {
				return f[1], nil
			}
		}
		return "", fmt.Errorf("%s not in go.mod", path)
	}
}

func nodePeer(mode, lib string) (*proc, error) {
	return startProc(".", "node", "peers/node/peer.js", mode, lib)
}

var peers = []*peerSpec{
	{
		name: "ws", about: "npm ws", probe: nodeLib("ws"),
		newServer: func() (serverPeer, error) { return nodePeer("server", "ws") },
		newClient: func() (clientPeer, error) { return nodePeer("client", "ws") },
		v8Client:  true, v8Server: true, closeReply: replyCodeReason,
		install: "npm ci in interop/ (Node 20 with npm)",
	},
	{
		name: "websocket", about: "npm websocket (WebSocket-Node)", probe: nodeLib("websocket"),
		newServer: func() (serverPeer, error) { return nodePeer("server", "websocket") },
		newClient: func() (clientPeer, error) { return nodePeer("client", "websocket") },
		v8Client:  true, v8Server: true, closeReply: reply1000,
		install: "npm ci in interop/ (Node 20 with npm)",
	},
	{
		name: "watershed", about: "npm watershed", probe: nodeLib("watershed"),
		newServer:  func() (serverPeer, error) { return nodePeer("server", "watershed") },
		newClient:  func() (clientPeer, error) { return nodePeer("client", "watershed") },
		closeReply: reply1000,
		install:    "npm ci in interop/ (Node 20 with npm)",
	},
	{
		name: "python-websockets", about: "Debian python3-websockets", probe: probePython,
		newServer:  func() (serverPeer, error) { return startProc(".", debianPython, "peers/python/peer.py", "server") },
		newClient:  func() (clientPeer, error) { return startProc(".", debianPython, "peers/python/peer.py", "client") },
		closeReply: replyCodeReason,
		install:    "apt-get install python3-websockets",
	},
	{
		name: "gorilla", about: "Go github.com/gorilla/websocket", probe: goModule("github.com/gorilla/websocket"),
		newServer: newGorillaServer, newClient: newGorillaClient,
		closeReply: replyCode,
	},
	{
		name: "gobwas", about: "Go github.com/gobwas/ws", probe: goModule("github.com/gobwas/ws"),
		newServer: newGobwasServer, newClient: newGobwasClient,
		closeReply: replyCode,
	},
	{
		name: "chromium", about: "Debian chromium, headless, via npm playwright-core", probe: probeChromium,
		newClient:  func() (clientPeer, error) { return startProc(".", "node", "peers/chromium/driver.js") },
		closeReply: replyCodeReason,
		install:    "apt-get install chromium, and npm ci in interop/ (playwright-core)",
	},
}
