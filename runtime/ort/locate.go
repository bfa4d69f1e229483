package ort

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// localLib is the project-local install written by scripts/install-onnxruntime.sh.
const localLib = ".local/onnxruntime/lib/libonnxruntime.so.1"

// systemDirs are searched last, in this order.
var systemDirs = []string{"/usr/lib/x86_64-linux-gnu", "/usr/local/lib", "/usr/lib"}

// locEnv is what the locator reads from the outside world; tests replace it.
type locEnv struct {
	getenv func(string) string
	cwd    string // working directory ("" = unknown)
	exe    string // path of the running executable ("" = unknown)
	home   string // home directory ("" = unknown)
	root   string // prefix for absolute search paths (tests use a temp dir; "" in production)
}

func realLocEnv() locEnv {
	e := locEnv{getenv: os.Getenv}
	e.cwd, _ = os.Getwd()
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		e.exe = exe
	}
	e.home, _ = os.UserHomeDir()
	return e
}

// errNotFound builds the error for a missing library, listing everything that was tried.
func errNotFound(looked []string) error {
	return fmt.Errorf("onnxruntime shared library not found (looked in: %s); install it with: "+
		"make onnxruntime (runs scripts/install-onnxruntime.sh), or set "+
		"ONNXRUNTIME_LIB=/path/to/libonnxruntime.so", strings.Join(looked, ", "))
}

// locate finds the onnxruntime shared library. The order is: $ONNXRUNTIME_LIB; the project-local
// install relative to the working directory and its parents, then to the executable's folder and
// its parents; a Python onnxruntime package; system library folders.
func locate(e locEnv) (string, error) {
	if p := e.getenv("ONNXRUNTIME_LIB"); p != "" {
		if isFile(e.root + p) {
			return e.root + p, nil
		}
		return "", fmt.Errorf("ONNXRUNTIME_LIB=%s: no such file; point it at libonnxruntime.so, "+
			"or unset it to search the usual places, or install the library with: make onnxruntime", p)
	}
	var looked []string
	try := func(p string) bool {
		looked = append(looked, p)
		return isFile(p)
	}
	for _, start := range []string{e.cwd, dirOf(e.exe)} {
		if start == "" {
			continue
		}
		for dir := start; ; dir = filepath.Dir(dir) {
			if p := filepath.Join(dir, localLib); try(p) {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, site := range pythonSites(e) {
		pattern := filepath.Join(site, "onnxruntime", "capi", "libonnxruntime.so*")
		looked = append(looked, pattern)
		if p := firstFile(pattern); p != "" {
			return p, nil
		}
	}
	for _, dir := range systemDirs {
		pattern := filepath.Join(e.root+dir, "libonnxruntime.so*")
		looked = append(looked, pattern)
		if p := firstFile(pattern); p != "" {
			return p, nil
		}
	}
	return "", errNotFound(looked)
}

// pythonSites lists site-packages folders that may hold a pip-installed onnxruntime.
func pythonSites(e locEnv) []string {
	var sites []string
	if v := e.getenv("FOB_PYTHON_SITE"); v != "" {
		for _, s := range filepath.SplitList(v) {
			if s != "" {
				sites = append(sites, s)
			}
		}
	}
	if v := e.getenv("VIRTUAL_ENV"); v != "" {
		sites = append(sites, globDirs(filepath.Join(v, "lib", "python3*", "site-packages"))...)
	}
	if e.home != "" {
		sites = append(sites, globDirs(filepath.Join(e.home, ".local", "lib", "python3*", "site-packages"))...)
	}
	for _, pattern := range []string{
		"/usr/local/lib/python3*/site-packages",
		"/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3*/dist-packages",
		"/usr/lib/python3/dist-packages",
	} {
		sites = append(sites, globDirs(e.root+pattern)...)
	}
	return sites
}

// globDirs returns the folders matching pattern, newest Python version first (reverse lexical
// order is good enough for python3.N with one-digit minors; ties do not matter).
func globDirs(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	sort.Sort(sort.Reverse(sort.StringSlice(m)))
	var out []string
	for _, d := range m {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out = append(out, d)
		}
	}
	return out
}

// firstFile returns the first regular file (or symlink to one) matching pattern, preferring the
// shortest name (libonnxruntime.so before libonnxruntime.so.1.30.0).
func firstFile(pattern string) string {
	m, _ := filepath.Glob(pattern)
	sort.Slice(m, func(i, j int) bool {
		if len(m[i]) != len(m[j]) {
			return len(m[i]) < len(m[j])
		}
		return m[i] < m[j]
	})
	for _, p := range m {
		if isFile(p) {
			return p
		}
	}
	return ""
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func dirOf(p string) string {
	if p == "" {
		return ""
	}
	return filepath.Dir(p)
}
