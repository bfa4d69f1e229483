package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
)

func TestNewBackendSpecs(t *testing.T) {
	cases := []struct {
		name    string
		spec    string
		env     string // GOMLX_BACKEND
		wantErr string // "" means success
	}{
		{name: "default is go", spec: "", env: ""},
		{name: "go", spec: "go"},
		{name: "go with simplego options", spec: "go:parallelism=2"},
		{name: "registered name", spec: "fobgo"},
		{name: "from env", spec: "", env: "go:ops_parallel,parallelism=-1"},
		{name: "spec beats env", spec: "go", env: "bogus"},
		{name: "unknown", spec: "tpu", wantErr: "valid specs are go, go:<simplego options>, xla:cpu, xla:cuda"},
		{name: "unknown from env", spec: "", env: "bogus", wantErr: "(from $GOMLX_BACKEND)"},
		{name: "bad go option", spec: "go:turbo", wantErr: "unknown configuration option \"turbo\""},
		{name: "bare xla", spec: "xla", wantErr: "name the XLA plugin"},
		{name: "unknown xla platform", spec: "xla:tpu", wantErr: "use xla:cuda, xla:cpu or xla:/absolute/path"},
		{name: "missing plugin file", spec: "xla:/nonexistent/pjrt_c_api_cpu_plugin.so", wantErr: "/nonexistent/pjrt_c_api_cpu_plugin.so"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(EnvBackend, c.env)
			b, err := NewBackend(c.spec)
			if c.wantErr != "" {
				if err == nil {
					b.Finalize()
					t.Fatalf("NewBackend(%q) succeeded, want error containing %q", c.spec, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("NewBackend(%q) error %q, want it to contain %q", c.spec, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewBackend(%q): %v", c.spec, err)
			}
			defer b.Finalize()
			if b.String() != GoBackendName || !b.Capabilities().Operations[backends.OpTypePad] {
				t.Fatalf("NewBackend(%q) = %s (%s), want fob's Go backend with Pad", c.spec, b.String(), b.Description())
			}
		})
	}
}

func TestGoConfig(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", GoDefaultConfig},
		{"parallelism=2", GoDefaultConfig + ",parallelism=2"},
		{"ops_parallel", "ops_parallel"},
		{"ops_sequential,dotgeneral_large", "ops_sequential,dotgeneral_large"},
	}
	for _, c := range cases {
		if got := goConfig(c.in); got != c.want {
			t.Errorf("goConfig(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestXLAWithoutPlugin checks the XLA specs on a machine without PJRT plugins: clear errors that
// name what was looked for and where, no download, no panic.
func TestXLAWithoutPlugin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	t.Setenv("FOB_PYTHON_SITE", dir)
	t.Setenv("FOB_PJRT_DIR", filepath.Join(dir, "layout"))
	t.Setenv("LD_LIBRARY_PATH", "")
	t.Setenv("HOME", dir)
	t.Setenv("VIRTUAL_ENV", "")
	t.Setenv("CONDA_PREFIX", "")
	t.Setenv("GOMLX_NO_AUTO_INSTALL", "")
	fake := filepath.Join(dir, "pjrt_c_api_cpu_plugin.so")
	if err := os.WriteFile(fake, []byte("\x7fELF but not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !XLALinked {
		_, err := NewBackend("xla:cpu")
		if err == nil || !strings.Contains(err.Error(), "rebuild") {
			t.Fatalf("no-XLA build: error %v, want rebuild instructions", err)
		}
		return
	}
	cases := []struct {
		spec string
		want []string
	}{
		{"xla:cuda", []string{"no PJRT cuda plugin found", dir, "pip install", "PJRT_PLUGIN_LIBRARY_PATH"}},
		{"xla:" + fake, []string{"failed to dynamically load PJRT plugin", fake}},
		{"xla:cpu", []string{"failed to dynamically load PJRT plugin", "pjrt_c_api_cpu_plugin.so"}},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			b, err := NewBackend(c.spec)
			if err == nil {
				b.Finalize()
				t.Fatalf("NewBackend(%q) succeeded on a machine without a plugin", c.spec)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewBackend(%q) error does not mention %q:\n%v", c.spec, w, err)
				}
			}
			if os.Getenv("GOMLX_NO_AUTO_INSTALL") != "1" {
				t.Errorf("GOMLX_NO_AUTO_INSTALL not set: GoMLX could try to download a plugin")
			}
		})
	}
}
