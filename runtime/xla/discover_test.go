package xla

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeFS builds a fake machine under a temporary root: files ending in ".so" get an ELF header
// (discovery checks it; nothing is ever loaded), other paths ending in "/" are folders, the rest
// are files with the given content.
type fakeFS struct {
	root string
	env  map[string]string
	set  map[string]string
}

func newFakeFS(t *testing.T, paths map[string]string) *fakeFS {
	t.Helper()
	f := &fakeFS{root: t.TempDir(), env: map[string]string{}, set: map[string]string{}}
	for p, content := range paths {
		full := f.path(p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(p, ".so") && content == "" {
			content = "\x7fELF fake plugin"
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// path maps a path of the fake machine to the real temporary folder.
func (f *fakeFS) path(p string) string { return filepath.Join(f.root, p) }

func (f *fakeFS) sys() System {
	return System{
		Getenv: func(k string) string { return f.env[k] },
		Setenv: func(k, v string) error { f.set[k] = v; f.env[k] = v; return nil },
		Home:   f.path("/home/u"),
		Root:   f.root,
	}
}

// wheel is a site-packages folder with JAX's CUDA 12 plugin and NVIDIA library wheels.
func wheel(site, cuda, version string) map[string]string {
	return map[string]string{
		site + "/jax_plugins/xla_" + cuda + "/xla_cuda_plugin.so":  "",
		site + "/jax_" + cuda + "_pjrt-" + version + ".dist-info/": "",
		site + "/nvidia/cublas/lib/libcublas.so.12":                "",
		site + "/nvidia/cudnn/lib/libcudnn.so.9":                   "",
		site + "/nvidia/cuda_runtime/lib/libcudart.so.12":          "",
		site + "/nvidia/cuda_nvcc/bin/ptxas":                       "",
		site + "/nvidia/cuda_nvcc/nvvm/libdevice/libdevice.10.bc":  "",
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestDiscoverFindsPlugins(t *testing.T) {
	const venvSite = "/venv/lib/python3.12/site-packages"
	cases := []struct {
		name       string
		spec       string
		files      map[string]string
		env        map[string]string
		wantPlugin string // fake-machine path
		wantSource string
		wantWheel  string
		wantData   string
		wantLibs   int
	}{
		{
			name: "FOB_PYTHON_SITE wheel", spec: "xla:cuda",
			files: wheel("/py/site", "cuda12", "0.7.1"), env: map[string]string{"FOB_PYTHON_SITE": "/py/site"},
			wantPlugin: "/py/site/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantSource: "jax-cuda12-pjrt",
			wantWheel: "jax-cuda12-pjrt 0.7.1", wantData: "/py/site/nvidia/cuda_nvcc", wantLibs: 3,
		},
		{
			name: "virtualenv", spec: "cuda",
			files: wheel(venvSite, "cuda12", "0.6.2"), env: map[string]string{"VIRTUAL_ENV": "/venv"},
			wantPlugin: venvSite + "/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantWheel: "jax-cuda12-pjrt 0.6.2", wantLibs: 3,
		},
		{
			name: "user site", spec: "xla:cuda",
			files:      wheel("/home/u/.local/lib/python3.11/site-packages", "cuda12", "0.7.0"),
			wantPlugin: "/home/u/.local/lib/python3.11/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantLibs: 3,
		},
		{
			name: "conda env", spec: "xla:cuda",
			files:      wheel("/home/u/miniconda3/envs/ml/lib/python3.10/site-packages", "cuda12", "0.5.3"),
			wantPlugin: "/home/u/miniconda3/envs/ml/lib/python3.10/site-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantLibs: 3,
		},
		{
			name: "system dist-packages", spec: "xla:cuda",
			files:      wheel("/usr/lib/python3/dist-packages", "cuda12", "0.7.1"),
			wantPlugin: "/usr/lib/python3/dist-packages/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantLibs: 3,
		},
		{
			name: "both wheels, old driver: CUDA 12", spec: "xla:cuda",
			files: merge(wheel("/s", "cuda12", "0.7.1"), wheel("/s", "cuda13", "0.7.1"), map[string]string{"/sys/module/nvidia/version": "550.54.15\n"}),
			env:   map[string]string{"FOB_PYTHON_SITE": "/s"}, wantPlugin: "/s/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantLibs: 3,
		},
		{
			name: "both wheels, 580+ driver: CUDA 13", spec: "xla:cuda",
			files: merge(wheel("/s", "cuda12", "0.7.1"), wheel("/s", "cuda13", "0.7.1"), map[string]string{"/proc/driver/nvidia/version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 06:54:38 UTC 2025\n"}),
			env:   map[string]string{"FOB_PYTHON_SITE": "/s"}, wantPlugin: "/s/jax_plugins/xla_cuda13/xla_cuda_plugin.so", wantWheel: "jax-cuda13-pjrt 0.7.1", wantLibs: 3,
		},
		{
			name: "PJRT_PLUGIN_LIBRARY_PATH beats site-packages", spec: "xla:cuda",
			files: merge(wheel("/usr/lib/python3/dist-packages", "cuda12", "0.7.1"), map[string]string{
				"/opt/pjrt/nvidia/pjrt_c_api_cuda_plugin.so": "", "/opt/pjrt/nvidia/cublas/lib/libcublas.so.12": ""}),
			env:        map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/nowhere:/opt/pjrt/nvidia"},
			wantPlugin: "/opt/pjrt/nvidia/pjrt_c_api_cuda_plugin.so", wantSource: "PJRT_PLUGIN_LIBRARY_PATH", wantLibs: 1,
		},
		{
			name: "PJRT_PLUGIN_LIBRARY_PATH names the file", spec: "xla:cuda",
			files:      wheel("/s", "cuda12", "0.7.1"),
			env:        map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/s/jax_plugins/xla_cuda12/xla_cuda_plugin.so"},
			wantPlugin: "/s/jax_plugins/xla_cuda12/xla_cuda_plugin.so", wantSource: "PJRT_PLUGIN_LIBRARY_PATH", wantWheel: "jax-cuda12-pjrt 0.7.1", wantLibs: 3,
		},
		{
			name: "go-xla install in home", spec: "xla:cuda",
			files:      map[string]string{"/home/u/.local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so": "", "/home/u/.local/lib/go-xla/nvidia/cu13/lib/libcublas.so.13": "", "/home/u/.local/lib/go-xla/nvidia/cu13/bin/ptxas": ""},
			wantPlugin: "/home/u/.local/lib/go-xla/nvidia/pjrt_c_api_cuda_plugin.so", wantData: "/home/u/.local/lib/go-xla/nvidia/cu13", wantLibs: 1,
		},
		{
			name: "cpu plugin in LD_LIBRARY_PATH", spec: "xla:cpu",
			files:      map[string]string{"/opt/lib/pjrt_c_api_cpu_plugin.so": ""},
			env:        map[string]string{"LD_LIBRARY_PATH": "/opt/lib"},
			wantPlugin: "/opt/lib/pjrt_c_api_cpu_plugin.so",
		},
		{
			name: "non-ELF file skipped", spec: "xla:cpu",
			files:      map[string]string{"/a/pjrt_c_api_cpu_plugin.so": "#!/bin/sh", "/b/pjrt_c_api_cpu_plugin.so": ""},
			env:        map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/a:/b"},
			wantPlugin: "/b/pjrt_c_api_cpu_plugin.so",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeFS(t, c.files)
			for k, v := range c.env {
				var parts []string
				for _, p := range strings.Split(v, ":") {
					if k != "VIRTUAL_ENV" && k != "FOB_PYTHON_SITE" && k != "PJRT_PLUGIN_LIBRARY_PATH" && k != "LD_LIBRARY_PATH" {
						parts = append(parts, p)
						continue
					}
					parts = append(parts, f.path(p))
				}
				f.env[k] = strings.Join(parts, ":")
			}
			spec := c.spec
			r, err := DiscoverIn(spec, f.sys())
			if err != nil {
				t.Fatalf("DiscoverIn(%q): %v", spec, err)
			}
			if r.PluginPath != f.path(c.wantPlugin) {
				t.Errorf("plugin %s, want %s\n%s", r.PluginPath, f.path(c.wantPlugin), r)
			}
			if !strings.Contains(r.Source, c.wantSource) {
				t.Errorf("source %q, want it to mention %q", r.Source, c.wantSource)
			}
			if c.wantWheel != "" && r.WheelVersion != c.wantWheel {
				t.Errorf("wheel %q, want %q", r.WheelVersion, c.wantWheel)
			}
			if c.wantData != "" && r.CUDADataDir != f.path(c.wantData) {
				t.Errorf("CUDA data dir %q, want %q", r.CUDADataDir, f.path(c.wantData))
			}
			if len(r.NvidiaLibDirs) != c.wantLibs {
				t.Errorf("NVIDIA lib dirs %v, want %d", r.NvidiaLibDirs, c.wantLibs)
			}
		})
	}
}

func TestDiscoverErrors(t *testing.T) {
	cases := []struct {
		name  string
		spec  string
		files map[string]string
		env   map[string]string
		want  []string
	}{
		{"no cuda plugin anywhere", "xla:cuda", map[string]string{"/usr/lib/python3/dist-packages/numpy/": ""}, nil,
			[]string{"no PJRT cuda plugin found", "PJRT_PLUGIN_LIBRARY_PATH: not set", "/home/u/.local/lib/go-xla", "/usr/local/lib/go-xla",
				"/usr/lib/python3/dist-packages: no jax_plugins/", "pip install \"jax[cuda12]\"", "FOB_PYTHON_SITE"}},
		{"no cpu plugin", "xla:cpu", nil, nil, []string{"no PJRT cpu plugin found", "never downloads"}},
		{"wheel folder without the plugin file", "xla:cuda", map[string]string{"/s/jax_plugins/xla_cuda12/": ""}, map[string]string{"FOB_PYTHON_SITE": "/s"},
			[]string{"/s/jax_plugins/xla_cuda12/xla_cuda_plugin.so: no such file"}},
		{"spec path missing", "xla:/opt/none.so", nil, nil, []string{"/opt/none.so", "no such file"}},
		{"spec path not ELF", "xla:/opt/p.so", map[string]string{"/opt/p.so": "text"}, nil, []string{"not an ELF shared library"}},
		{"spec path is a folder", "xla:/opt/", map[string]string{"/opt/": ""}, nil, []string{"is a folder"}},
		{"bad spec", "xla:rocm", nil, nil, []string{"unknown XLA spec", "xla:cuda, xla:cpu"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeFS(t, c.files)
			for k, v := range c.env {
				f.env[k] = f.path(v)
			}
			spec := c.spec
			if strings.HasPrefix(spec, "xla:/") {
				spec = "xla:" + f.path(strings.TrimPrefix(spec, "xla:"))
			}
			_, err := DiscoverIn(spec, f.sys())
			if err == nil {
				t.Fatalf("DiscoverIn(%q) succeeded", spec)
			}
			for _, w := range c.want {
				if strings.HasPrefix(w, "/") {
					w = f.path(w)
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDiscoverWarnings(t *testing.T) {
	f := newFakeFS(t, map[string]string{"/s/jax_plugins/xla_cuda12/xla_cuda_plugin.so": "", "/s/jax_cuda12_pjrt-0.7.1.dist-info/": ""})
	f.env["FOB_PYTHON_SITE"] = f.path("/s")
	r, err := DiscoverIn("xla:cuda", f.sys())
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(r.Warnings, "\n")
	for _, w := range []string{"no NVIDIA library folders", "no NVIDIA GPU device", "driver version unknown"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings lack %q:\n%s", w, joined)
		}
	}
}

func TestPrepareLaysOutCUDAPlugin(t *testing.T) {
	f := newFakeFS(t, merge(wheel("/s", "cuda12", "0.7.1"), map[string]string{"/dev/nvidia0": "", "/layout/nvidia/stale": ""}))
	if err := os.Remove(f.path("/layout/nvidia/stale")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/gone", f.path("/layout/nvidia/stale")); err != nil {
		t.Fatal(err)
	}
	f.env["FOB_PYTHON_SITE"] = f.path("/s")
	f.env["XLA_FLAGS"] = "--xla_gpu_autotune_level=0"
	r, err := DiscoverIn("xla:cuda", f.sys())
	if err != nil {
		t.Fatal(err)
	}
	layout := f.path("/layout")
	for range 2 { // a second run finds everything in place
		if err := r.PrepareIn(f.sys(), layout); err != nil {
			t.Fatal(err)
		}
	}
	if want := filepath.Join(layout, "nvidia", "pjrt_c_api_cuda_plugin.so"); r.LoadPath != want {
		t.Fatalf("LoadPath %s, want %s", r.LoadPath, want)
	}
	if target, err := os.Readlink(r.LoadPath); err != nil || target != r.PluginPath {
		t.Fatalf("%s -> %q (%v), want a link to %s", r.LoadPath, target, err, r.PluginPath)
	}
	// The plugin's RPATH $ORIGIN/../nvidia/<lib>/lib must resolve from the link's folder.
	for _, lib := range []string{"cublas/lib/libcublas.so.12", "cudnn/lib/libcudnn.so.9", "cuda_runtime/lib/libcudart.so.12"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(r.LoadPath), "..", "nvidia", lib)); err != nil {
			t.Errorf("$ORIGIN/../nvidia/%s does not resolve: %v", lib, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(layout, "nvidia", "stale")); !os.IsNotExist(err) {
		t.Errorf("stale link left in the layout folder (err %v)", err)
	}
	wantEnv := map[string]string{
		"GOMLX_NO_AUTO_INSTALL":    "1",
		"PJRT_PLUGIN_LIBRARY_PATH": filepath.Join(layout, "nvidia"),
		"XLA_FLAGS":                "--xla_gpu_autotune_level=0 --xla_gpu_cuda_data_dir=" + f.path("/s/nvidia/cuda_nvcc"),
	}
	for k, v := range wantEnv {
		if f.set[k] != v || r.Env[k] != v {
			t.Errorf("%s set to %q (report %q), want %q", k, f.set[k], r.Env[k], v)
		}
	}
	out := r.String()
	for _, w := range []string{"jax-cuda12-pjrt 0.7.1", r.LoadPath, "go-xla supports 0.83", "XLA_FLAGS=", "export LD_LIBRARY_PATH=" + f.path("/s/nvidia/cublas/lib")} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
}

func TestPrepareRespectsConfiguration(t *testing.T) {
	cases := []struct {
		name       string
		spec       string
		files      map[string]string
		env        map[string]string
		wantLoad   string // fake-machine path; "" means the layout link
		wantXLA    string // "" means unset
		wantPJRT   bool   // PJRT_PLUGIN_LIBRARY_PATH set by Prepare
		wantLinkTo string
	}{
		{
			name: "XLA_FLAGS already has a data dir", spec: "xla:cuda",
			files: wheel("/s", "cuda12", "0.7.1"), env: map[string]string{"FOB_PYTHON_SITE": "/s", "XLA_FLAGS": "--xla_gpu_cuda_data_dir=/usr/local/cuda"},
			wantXLA: "", wantPJRT: true,
		},
		{
			name: "go-xla layout is loaded in place", spec: "xla:cuda",
			files:    map[string]string{"/g/nvidia/pjrt_c_api_cuda_plugin.so": "", "/g/nvidia/cu13/lib/x.so": "", "/g/nvidia/cu13/nvvm/libdevice/": ""},
			env:      map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/g/nvidia"},
			wantLoad: "/g/nvidia/pjrt_c_api_cuda_plugin.so", wantXLA: "--xla_gpu_cuda_data_dir=/g/nvidia/cu13",
		},
		{
			name: "cpu plugin under another name gets a link", spec: "xla:/opt/libpjrt_cpu.so",
			files: map[string]string{"/opt/libpjrt_cpu.so": ""}, wantPJRT: true, wantLinkTo: "/opt/libpjrt_cpu.so",
		},
		{
			name: "cpu plugin already named", spec: "xla:cpu",
			files: map[string]string{"/p/pjrt_c_api_cpu_plugin.so": ""}, env: map[string]string{"PJRT_PLUGIN_LIBRARY_PATH": "/p"},
			wantLoad: "/p/pjrt_c_api_cpu_plugin.so",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeFS(t, c.files)
			for k, v := range c.env {
				if strings.HasPrefix(v, "/") {
					v = f.path(v)
				}
				f.env[k] = v
			}
			spec := c.spec
			if strings.HasPrefix(spec, "xla:/") {
				spec = "xla:" + f.path(strings.TrimPrefix(spec, "xla:"))
			}
			r, err := DiscoverIn(spec, f.sys())
			if err != nil {
				t.Fatal(err)
			}
			layout := f.path("/layout")
			if err := r.PrepareIn(f.sys(), layout); err != nil {
				t.Fatal(err)
			}
			if c.wantLoad != "" && r.LoadPath != f.path(c.wantLoad) {
				t.Errorf("LoadPath %s, want %s", r.LoadPath, f.path(c.wantLoad))
			}
			if c.wantLinkTo != "" {
				if target, err := os.Readlink(r.LoadPath); err != nil || target != f.path(c.wantLinkTo) {
					t.Errorf("%s -> %q (%v), want %s", r.LoadPath, target, err, f.path(c.wantLinkTo))
				}
				if filepath.Base(r.LoadPath) != "pjrt_c_api_cpu_plugin.so" {
					t.Errorf("link named %s", filepath.Base(r.LoadPath))
				}
			}
			gotXLA, setXLA := f.set["XLA_FLAGS"]
			wantXLA := c.wantXLA
			if i := strings.Index(wantXLA, "=/"); i >= 0 {
				wantXLA = wantXLA[:i+1] + f.path(wantXLA[i+1:])
			}
			if (wantXLA == "") == setXLA || gotXLA != wantXLA {
				t.Errorf("XLA_FLAGS set=%v to %q, want %q", setXLA, gotXLA, wantXLA)
			}
			if _, set := f.set["PJRT_PLUGIN_LIBRARY_PATH"]; set != c.wantPJRT {
				t.Errorf("PJRT_PLUGIN_LIBRARY_PATH set=%v, want %v", set, c.wantPJRT)
			}
		})
	}
}

func TestPrepareNeverReplacesFiles(t *testing.T) {
	f := newFakeFS(t, merge(wheel("/s", "cuda12", "0.7.1"), map[string]string{"/layout/nvidia/cublas": "a user's file"}))
	f.env["FOB_PYTHON_SITE"] = f.path("/s")
	r, err := DiscoverIn("xla:cuda", f.sys())
	if err != nil {
		t.Fatal(err)
	}
	err = r.PrepareIn(f.sys(), f.path("/layout"))
	if err == nil || !strings.Contains(err.Error(), "is not a link") || !strings.Contains(err.Error(), "FOB_PJRT_DIR") {
		t.Fatalf("error %v, want one refusing to replace the file and naming FOB_PJRT_DIR", err)
	}
	if b, _ := os.ReadFile(f.path("/layout/nvidia/cublas")); string(b) != "a user's file" {
		t.Fatalf("user's file changed: %q", b)
	}
}

func TestParseSpec(t *testing.T) {
	cases := []struct {
		spec, platform, path, options string
		ok                            bool
	}{
		{"xla:cuda", "cuda", "", "", true},
		{"cpu", "cpu", "", "", true},
		{"xla:cuda,tf32", "cuda", "", ",tf32", true},
		{"xla:/x/pjrt_c_api_cuda_plugin.so", "cuda", "/x/pjrt_c_api_cuda_plugin.so", "", true},
		{"xla:/x/libfoo.so,shared_buffers", "", "/x/libfoo.so", ",shared_buffers", true},
		{"xla:gpu", "", "", "", false},
		{"xla:relative/p.so", "", "", "", false},
	}
	for _, c := range cases {
		platform, path, options, err := ParseSpec(c.spec)
		if (err == nil) != c.ok || platform != c.platform || path != c.path || options != c.options {
			t.Errorf("ParseSpec(%q) = %q, %q, %q, %v; want %q, %q, %q, ok=%v", c.spec, platform, path, options, err, c.platform, c.path, c.options, c.ok)
		}
	}
}

func TestCheckAPIVersion(t *testing.T) {
	cases := []struct {
		v       string
		wantErr bool
		warn    string
	}{
		{"0.83", false, ""},
		{"0.90", false, "newer"},
		{"0.70", false, "older"},
		{"1.2", true, ""},
		{"x", true, ""},
	}
	for _, c := range cases {
		warn, err := CheckAPIVersion(c.v)
		if (err != nil) != c.wantErr || !strings.Contains(warn, c.warn) || (c.warn == "" && warn != "") {
			t.Errorf("CheckAPIVersion(%q) = %q, %v; want warning %q, error %v", c.v, warn, err, c.warn, c.wantErr)
		}
	}
}

func TestSitePackagesOrder(t *testing.T) {
	f := newFakeFS(t, map[string]string{
		"/venv/lib/python3.12/site-packages/":          "",
		"/home/u/.local/lib/python3.11/site-packages/": "",
		"/usr/local/lib/python3.11/dist-packages/":     "",
		"/usr/lib/python3/dist-packages/":              "",
		"/explicit/":                                   "",
	})
	f.env["FOB_PYTHON_SITE"] = f.path("/explicit")
	f.env["VIRTUAL_ENV"] = f.path("/venv")
	got := sitePackages(f.sys())
	want := []string{"/explicit", "/venv/lib/python3.12/site-packages", "/home/u/.local/lib/python3.11/site-packages",
		"/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3/dist-packages"}
	for i := range want {
		want[i] = f.path(want[i])
	}
	if !slices.Equal(got, want) {
		t.Fatalf("site-packages order\n got %v\nwant %v", got, want)
	}
}
