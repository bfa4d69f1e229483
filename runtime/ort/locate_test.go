package ort

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func touch(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not really a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLocateOrder(t *testing.T) {
	type setup struct {
		env   map[string]string
		files []string // relative to the fake root
		cwd   string   // relative to the fake root
		exe   string   // relative to the fake root
		home  string   // relative to the fake root
	}
	cases := []struct {
		name string
		s    setup
		want string // relative to the fake root; "" = not found
		err  string
	}{
		{"env wins", setup{
			env:   map[string]string{"ONNXRUNTIME_LIB": "/opt/ort/libonnxruntime.so"},
			files: []string{"/opt/ort/libonnxruntime.so", "/repo/.local/onnxruntime/lib/libonnxruntime.so.1"},
			cwd:   "/repo"}, "/opt/ort/libonnxruntime.so", ""},
		{"env names a missing file", setup{
			env:   map[string]string{"ONNXRUNTIME_LIB": "/nope.so"},
			files: []string{"/repo/.local/onnxruntime/lib/libonnxruntime.so.1"}, cwd: "/repo"},
			"", "ONNXRUNTIME_LIB=/nope.so: no such file"},
		{"project install above the working directory", setup{
			files: []string{"/repo/.local/onnxruntime/lib/libonnxruntime.so.1", "/usr/lib/libonnxruntime.so"},
			cwd:   "/repo/tasks/mnist"}, "/repo/.local/onnxruntime/lib/libonnxruntime.so.1", ""},
		{"project install above the executable", setup{
			files: []string{"/repo/.local/onnxruntime/lib/libonnxruntime.so.1"},
			cwd:   "/elsewhere", exe: "/repo/bin/fob"}, "/repo/.local/onnxruntime/lib/libonnxruntime.so.1", ""},
		{"FOB_PYTHON_SITE", setup{
			env:   map[string]string{"FOB_PYTHON_SITE": "/site"},
			files: []string{"/site/onnxruntime/capi/libonnxruntime.so.1.30.0", "/usr/lib/libonnxruntime.so"},
			cwd:   "/elsewhere"}, "/site/onnxruntime/capi/libonnxruntime.so.1.30.0", ""},
		{"virtualenv", setup{
			env:   map[string]string{"VIRTUAL_ENV": "/venv"},
			files: []string{"/venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.20.1"},
			cwd:   "/elsewhere"}, "/venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.20.1", ""},
		{"user site", setup{
			files: []string{"/home/u/.local/lib/python3.12/site-packages/onnxruntime/capi/libonnxruntime.so.1.18.0"},
			cwd:   "/elsewhere", home: "/home/u"}, "/home/u/.local/lib/python3.12/site-packages/onnxruntime/capi/libonnxruntime.so.1.18.0", ""},
		{"debian dist-packages", setup{
			files: []string{"/usr/lib/python3/dist-packages/onnxruntime/capi/libonnxruntime.so.1.17.0"},
			cwd:   "/elsewhere"}, "/usr/lib/python3/dist-packages/onnxruntime/capi/libonnxruntime.so.1.17.0", ""},
		{"system, shortest name first", setup{
			files: []string{"/usr/local/lib/libonnxruntime.so.1.30.0", "/usr/local/lib/libonnxruntime.so.1"},
			cwd:   "/elsewhere"}, "/usr/local/lib/libonnxruntime.so.1", ""},
		{"multiarch before /usr/local/lib", setup{
			files: []string{"/usr/local/lib/libonnxruntime.so", "/usr/lib/x86_64-linux-gnu/libonnxruntime.so.1"},
			cwd:   "/elsewhere"}, "/usr/lib/x86_64-linux-gnu/libonnxruntime.so.1", ""},
		{"nothing", setup{cwd: "/repo"}, "", "onnxruntime shared library not found (looked in: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			for _, f := range c.s.files {
				touch(t, root+f)
			}
			env := map[string]string{}
			for k, v := range c.s.env {
				if k == "ONNXRUNTIME_LIB" {
					env[k] = v // locate prefixes it with root itself
				} else {
					env[k] = root + v
				}
			}
			e := locEnv{getenv: func(k string) string { return env[k] }, root: root}
			if c.s.cwd != "" {
				e.cwd = root + c.s.cwd
				_ = os.MkdirAll(e.cwd, 0o755)
			}
			if c.s.exe != "" {
				e.exe = root + c.s.exe
			}
			if c.s.home != "" {
				e.home = root + c.s.home
			}
			got, err := locate(e)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != root+c.want {
				t.Fatalf("found %s, want %s", strings.TrimPrefix(got, root), c.want)
			}
		})
	}
}

func TestNotFoundMessage(t *testing.T) {
	root := t.TempDir()
	_, err := locate(locEnv{getenv: func(string) string { return "" }, cwd: root + "/a", root: root})
	msg := err.Error()
	for _, part := range []string{
		root + "/a/.local/onnxruntime/lib/libonnxruntime.so.1",
		root + "/usr/lib/x86_64-linux-gnu/libonnxruntime.so*",
		"install it with: make onnxruntime (runs scripts/install-onnxruntime.sh), or set ONNXRUNTIME_LIB=/path/to/libonnxruntime.so",
	} {
		if !strings.Contains(msg, part) {
			t.Fatalf("message %q lacks %q", msg, part)
		}
	}
}
