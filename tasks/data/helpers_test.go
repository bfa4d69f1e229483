package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mirror returns the offline dataset mirror: $FOB_DATA_MIRROR, else the shared folder next to
// the repository. Tests that need the real files skip, saying so, when neither exists.
func mirror(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FOB_DATA_MIRROR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("dataset mirror %s not present (set FOB_DATA_MIRROR): skipping the test on real files", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// quietEnv is an Env for tests with progress going to a discarded buffer.
func quietEnv(dataDir, mirror string) Env {
	return Env{DataDir: dataDir, Mirror: mirror, Progress: &strings.Builder{}}
}

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error containing %q, got nil", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}
