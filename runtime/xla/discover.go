// Package xla finds a PJRT plugin for GoMLX's XLA backend (go-xla) on this machine and lays it
// out the way go-xla loads it. It never downloads anything: a CUDA plugin comes from the
// configuration (the spec, PJRT_PLUGIN_LIBRARY_PATH), from go-xla's own install folders, or from
// an installed JAX CUDA wheel (jax-cuda12-pjrt / jax-cuda13-pjrt) and the NVIDIA library wheels
// next to it in the same Python site-packages folder.
//
// Discovery only reads the file system; Report.Prepare writes the layout (symbolic links) and
// sets the environment; loading is left to the caller (package runtime).
package xla

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Environment variables read by discovery.
const (
	// EnvPluginPath is go-xla's search path for plugins: folders (or plugin files), ':'-separated.
	EnvPluginPath = "PJRT_PLUGIN_LIBRARY_PATH"
	// EnvPythonSite names Python site-packages folders to search first, ':'-separated.
	EnvPythonSite = "FOB_PYTHON_SITE"
	// EnvLayoutDir overrides where Prepare lays out links (default: the user cache folder + fob/pjrt).
	EnvLayoutDir = "FOB_PJRT_DIR"
	// EnvXLAFlags carries XLA's flags; Prepare adds --xla_gpu_cuda_data_dir when it lacks one.
	EnvXLAFlags = "XLA_FLAGS"
	// EnvNoAutoInstall stops GoMLX's XLA backend from downloading plugins.
	EnvNoAutoInstall = "GOMLX_NO_AUTO_INSTALL"
)

// GoXLAPJRTAPIVersion is the PJRT C API version of the header go-xla v0.1.4 is compiled against
// (PJRT_API_MAJOR.PJRT_API_MINOR in its pjrt_c_api.h).
const GoXLAPJRTAPIVersion = "0.83"

// cuda13MinDriver is the first NVIDIA driver branch that runs CUDA 13.
const cuda13MinDriver = 580

// System is what discovery looks at. The zero value means this machine; tests point Home and
// Root at temporary folders.
type System struct {
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Setenv changes the environment in Prepare (default os.Setenv).
	Setenv func(key, value string) error
	// Home is the user's home folder (default os.UserHomeDir).
	Home string
	// Root prefixes the fixed system folders searched (/usr/lib, /opt/conda, /proc, /dev, ...).
	Root string
}

func (s System) withDefaults() System {
	if s.Getenv == nil {
		s.Getenv = os.Getenv
	}
	if s.Setenv == nil {
		s.Setenv = os.Setenv
	}
	if s.Home == "" {
		s.Home, _ = os.UserHomeDir()
	}
	return s
}

// sys joins a fixed system path under Root.
func (s System) sys(p string) string { return filepath.Join(s.Root, p) }

// Report is what discovery found; String prints it for `fob doctor`.
type Report struct {
	// Spec is the normalised backend spec: xla:cuda, xla:cpu or xla:/abs/plugin.so.
	Spec string
	// Platform is "cuda", "cpu", or "" for an explicit plugin of unknown kind.
	Platform string
	// PluginPath is the plugin file found.
	PluginPath string
	// Source says where it was found.
	Source string
	// WheelVersion is the JAX plugin wheel's version ("jax-cuda12-pjrt 0.7.1"), when known.
	WheelVersion string
	// SitePackages is the Python site-packages folder the plugin came from, if any.
	SitePackages string
	// NvidiaRoot is the folder holding the NVIDIA library wheels' contents (cublas/, cudnn/, ...).
	NvidiaRoot string
	// NvidiaLibDirs are NvidiaRoot's */lib folders: the libraries the CUDA plugin loads.
	NvidiaLibDirs []string
	// CUDADataDir holds bin/ptxas and nvvm/libdevice, passed to XLA as --xla_gpu_cuda_data_dir.
	CUDADataDir string
	// DriverVersion is the NVIDIA kernel driver's version, when readable.
	DriverVersion string
	// LoadPath is what gets handed to go-xla: set by Prepare (a link in the layout folder) or
	// PluginPath itself.
	LoadPath string
	// LayoutDir is the folder Prepare filled with links, if any.
	LayoutDir string
	// Env is the environment Prepare set in this process.
	Env map[string]string
	// PJRTAPIVersion is the plugin's PJRT C API version; known only once it is loaded.
	PJRTAPIVersion string
	// Devices describes the devices the loaded plugin reports (filled by the loader).
	Devices []string
	// Searched lists every place looked at, with what was there.
	Searched []string
	// Warnings are problems that do not stop loading but may explain a later failure.
	Warnings []string
}

// ParseSpec splits an XLA backend spec into the platform ("cuda", "cpu") or an absolute plugin
// path, and the GoMLX plugin options after the first comma (e.g. "xla:cuda,tf32").
func ParseSpec(spec string) (platform, pluginPath, options string, err error) {
	s := strings.TrimPrefix(spec, "xla:")
	if i := strings.IndexByte(s, ','); i >= 0 {
		s, options = s[:i], s[i:]
	}
	switch {
	case s == "cuda" || s == "cpu":
		return s, "", options, nil
	case filepath.IsAbs(s):
		return platformOfFile(s), s, options, nil
	}
	return "", "", "", fmt.Errorf("unknown XLA spec %q: use xla:cuda, xla:cpu or xla:/absolute/path/to/pjrt_plugin.so", spec)
}

// platformOfFile guesses a plugin's platform from its file name.
func platformOfFile(p string) string {
	base := strings.ToLower(filepath.Base(p))
	switch {
	case strings.Contains(base, "cuda") || strings.Contains(base, "gpu"):
		return "cuda"
	case strings.Contains(base, "cpu"):
		return "cpu"
	}
	return ""
}

// Discover finds the plugin for spec on this machine. See DiscoverIn.
func Discover(spec string) (Report, error) { return DiscoverIn(spec, System{}) }

// DiscoverIn finds the plugin for spec ("xla:cuda", "xla:cpu", "xla:/abs/plugin.so") in sys,
// reading the file system only. The error names every place looked at and how to fix it.
func DiscoverIn(spec string, sys System) (Report, error) {
	sys = sys.withDefaults()
	platform, explicit, _, err := ParseSpec(spec)
	if err != nil {
		return Report{}, err
	}
	r := Report{Platform: platform, Env: map[string]string{}}
	r.DriverVersion = driverVersion(sys)
	if explicit != "" {
		r.Spec = "xla:" + explicit
		if why := checkPluginFile(explicit); why != "" {
			return r, fmt.Errorf("PJRT plugin %s given in the spec: %s", explicit, why)
		}
		r.PluginPath, r.Source = explicit, "the spec"
		r.Searched = append(r.Searched, explicit+": found")
	} else {
		r.Spec = "xla:" + platform
		found := r.searchConfigured(sys) || r.searchGoXLA(sys)
		if !found && platform == "cuda" {
			found = r.searchSitePackages(sys)
		}
		if !found {
			return r, r.notFound(sys)
		}
	}
	r.fromWheel()
	if r.Platform == "cuda" {
		r.findNvidia(sys)
	}
	return r, nil
}

// fromWheel fills SitePackages and WheelVersion when the plugin sits in a JAX wheel's layout
// (<site>/jax_plugins/xla_cuda12/xla_cuda_plugin.so), however it was found.
func (r *Report) fromWheel() {
	pkgDir := filepath.Dir(r.PluginPath)
	if r.SitePackages != "" || filepath.Base(filepath.Dir(pkgDir)) != "jax_plugins" {
		return
	}
	r.SitePackages = filepath.Dir(filepath.Dir(pkgDir))
	wheel := "jax-" + strings.TrimPrefix(filepath.Base(pkgDir), "xla_") + "-pjrt"
	if v := wheelVersion(r.SitePackages, wheel); v != "" {
		r.WheelVersion = wheel + " " + v
	}
}

// pluginNames are the file names go-xla recognises for a platform (plus JAX's own name for CUDA).
func pluginNames(platform string) []string {
	names := []string{"pjrt_c_api_" + platform + "_plugin.so", "pjrt-plugin-" + platform + ".so", "pjrt_plugin_" + platform + ".so"}
	if platform == "cuda" {
		names = append(names, "xla_cuda_plugin.so")
	}
	return names
}

// checkPluginFile says why p cannot be a plugin, or "" when it looks like one (an ELF file).
func checkPluginFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		if os.IsNotExist(err) {
			return "no such file"
		}
		return err.Error()
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "is a folder, not a plugin file"
	}
	magic := make([]byte, 4)
	if n, _ := f.Read(magic); n < 4 || !bytes.Equal(magic, []byte("\x7fELF")) {
		return "not an ELF shared library"
	}
	return ""
}

// tryDir looks for the platform's plugin names in dir, recording what it saw.
func (r *Report) tryDir(dir, source string) bool {
	for _, name := range pluginNames(r.Platform) {
		p := filepath.Join(dir, name)
		why := checkPluginFile(p)
		if why == "no such file" {
			continue
		}
		if why != "" {
			r.Searched = append(r.Searched, p+": "+why)
			continue
		}
		r.Searched = append(r.Searched, p+": found")
		r.PluginPath, r.Source = p, source
		return true
	}
	r.Searched = append(r.Searched, dir+": no "+strings.Join(pluginNames(r.Platform), ", "))
	return false
}

// searchConfigured looks in PJRT_PLUGIN_LIBRARY_PATH (folders, or plugin files).
func (r *Report) searchConfigured(sys System) bool {
	if len(splitList(sys.Getenv(EnvPluginPath))) == 0 {
		r.Searched = append(r.Searched, EnvPluginPath+": not set")
	}
	for _, entry := range splitList(sys.Getenv(EnvPluginPath)) {
		if st, err := os.Stat(entry); err == nil && !st.IsDir() {
			if why := checkPluginFile(entry); why != "" {
				r.Searched = append(r.Searched, entry+" ("+EnvPluginPath+"): "+why)
				continue
			}
			if p := platformOfFile(entry); p != "" && p != r.Platform {
				r.Searched = append(r.Searched, entry+" ("+EnvPluginPath+"): a "+p+" plugin, not "+r.Platform)
				continue
			}
			r.Searched = append(r.Searched, entry+" ("+EnvPluginPath+"): found")
			r.PluginPath, r.Source = entry, EnvPluginPath
			return true
		}
		if r.tryDir(entry, EnvPluginPath) {
			return true
		}
	}
	return false
}

// searchGoXLA looks where go-xla installs plugins and in LD_LIBRARY_PATH, as go-xla does.
func (r *Report) searchGoXLA(sys System) bool {
	var dirs []string
	if sys.Home != "" {
		dirs = append(dirs, filepath.Join(sys.Home, ".local/lib/go-xla"), filepath.Join(sys.Home, ".local/lib/go-xla/nvidia"))
	}
	dirs = append(dirs, sys.sys("/usr/local/lib/go-xla"), sys.sys("/usr/local/lib/go-xla/nvidia"))
	for _, d := range splitList(sys.Getenv("LD_LIBRARY_PATH")) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	for _, d := range dedupe(dirs) {
		if r.tryDir(d, "go-xla search folder "+d) {
			return true
		}
	}
	return false
}

// sitePackages lists candidate Python site-packages folders, most specific first.
func sitePackages(sys System) []string {
	var out []string
	out = append(out, splitList(sys.Getenv(EnvPythonSite))...)
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		slices.Sort(m)
		slices.Reverse(m) // newest Python first
		out = append(out, m...)
	}
	pyDirs := func(prefix string) {
		glob(filepath.Join(prefix, "lib/python3*/site-packages"))
		glob(filepath.Join(prefix, "lib/python3*/dist-packages"))
	}
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if v := sys.Getenv(env); v != "" {
			pyDirs(v)
		}
	}
	if sys.Home != "" {
		pyDirs(filepath.Join(sys.Home, ".local"))
		for _, c := range []string{"miniconda3", "anaconda3", "miniforge3", "mambaforge"} {
			pyDirs(filepath.Join(sys.Home, c))
			glob(filepath.Join(sys.Home, c, "envs/*/lib/python3*/site-packages"))
		}
	}
	pyDirs(sys.sys("/opt/conda"))
	pyDirs(sys.sys("/usr/local"))
	pyDirs(sys.sys("/usr"))
	return dedupe(out)
}

// searchSitePackages looks for the JAX CUDA plugin wheels' xla_cuda_plugin.so.
func (r *Report) searchSitePackages(sys System) bool {
	sites := sitePackages(sys)
	if len(sites) == 0 {
		r.Searched = append(r.Searched, "Python site-packages: none found (set "+EnvPythonSite+")")
	}
	// CUDA 13 needs a 580+ driver; with an older (or unknown) driver prefer the CUDA 12 build.
	order := []string{"xla_cuda12", "xla_cuda13"}
	if major, err := strconv.Atoi(strings.SplitN(r.DriverVersion, ".", 2)[0]); err == nil && major >= cuda13MinDriver {
		order = []string{"xla_cuda13", "xla_cuda12"}
	}
	if sys.Getenv(EnvPythonSite) == "" {
		r.Searched = append(r.Searched, EnvPythonSite+": not set")
	}
	for _, site := range sites {
		if !exists(filepath.Join(site, "jax_plugins")) {
			r.Searched = append(r.Searched, site+": no jax_plugins/ (no JAX plugin wheel installed)")
			continue
		}
		for _, pkg := range order {
			p := filepath.Join(site, "jax_plugins", pkg, "xla_cuda_plugin.so")
			why := checkPluginFile(p)
			if why != "" {
				r.Searched = append(r.Searched, p+": "+why)
				continue
			}
			r.Searched = append(r.Searched, p+": found")
			r.PluginPath, r.SitePackages = p, site
			wheel := "jax-" + strings.TrimPrefix(pkg, "xla_") + "-pjrt"
			r.Source = "Python site-packages (" + wheel + ")"
			if v := wheelVersion(site, wheel); v != "" {
				r.WheelVersion = wheel + " " + v
			}
			return true
		}
	}
	return false
}

// wheelVersion reads a wheel's version from its .dist-info folder name.
func wheelVersion(site, wheel string) string {
	prefix := strings.ReplaceAll(wheel, "-", "_") + "-"
	m, _ := filepath.Glob(filepath.Join(site, prefix+"*.dist-info"))
	if len(m) == 0 {
		return ""
	}
	slices.Sort(m)
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m[len(m)-1]), prefix), ".dist-info")
}

// findNvidia locates the NVIDIA libraries the CUDA plugin's RPATH ($ORIGIN/../nvidia/*/lib,
// $ORIGIN/../../nvidia/*/lib) points at, and the folder with ptxas and libdevice.
func (r *Report) findNvidia(sys System) {
	dir := filepath.Dir(r.PluginPath)
	candidates := []string{filepath.Join(dir, "../nvidia"), filepath.Join(dir, "../../nvidia")}
	if filepath.Base(dir) == "nvidia" { // go-xla's own layout: the plugin inside nvidia/
		candidates = append([]string{dir}, candidates...)
	}
	if r.SitePackages != "" {
		candidates = append([]string{filepath.Join(r.SitePackages, "nvidia")}, candidates...)
	}
	for _, c := range dedupe(candidates) {
		libs, _ := filepath.Glob(filepath.Join(c, "*/lib"))
		if len(libs) == 0 {
			continue
		}
		slices.Sort(libs)
		r.NvidiaRoot, r.NvidiaLibDirs = filepath.Clean(c), libs
		break
	}
	if r.NvidiaRoot == "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no NVIDIA library folders (nvidia/*/lib) next to %s (looked in %s): the plugin will need CUDA, cuDNN and cuBLAS from the system library path; `pip install \"jax[cuda12]\"` installs them next to the plugin",
			r.PluginPath, strings.Join(dedupe(candidates), ", ")))
	} else {
		for _, sub := range []string{"cuda_nvcc", "cu13", "cu12"} {
			d := filepath.Join(r.NvidiaRoot, sub)
			if exists(filepath.Join(d, "bin/ptxas")) || exists(filepath.Join(d, "nvvm/libdevice")) {
				r.CUDADataDir = d
				break
			}
		}
		if r.CUDADataDir == "" {
			r.Warnings = append(r.Warnings, "no ptxas or libdevice under "+r.NvidiaRoot+" (cuda_nvcc/ or cu13/): XLA may fail to compile GPU kernels; install nvidia-cuda-nvcc-cu12 (or the cu13 equivalent) into the same Python environment")
		}
	}
	if devs, _ := filepath.Glob(sys.sys("/dev/nvidia[0-9]*")); len(devs) == 0 {
		r.Warnings = append(r.Warnings, "no NVIDIA GPU device (/dev/nvidia0, ...) on this machine: the CUDA plugin will fail to create a client")
	}
	if r.DriverVersion == "" {
		r.Warnings = append(r.Warnings, "NVIDIA driver version unknown (no /proc/driver/nvidia/version or /sys/module/nvidia/version)")
	} else if strings.Contains(r.WheelVersion, "cuda13") {
		if major, err := strconv.Atoi(strings.SplitN(r.DriverVersion, ".", 2)[0]); err == nil && major < cuda13MinDriver {
			r.Warnings = append(r.Warnings, fmt.Sprintf("driver %s is older than %d, the first to run CUDA 13: install the CUDA 12 wheel (jax[cuda12]) instead", r.DriverVersion, cuda13MinDriver))
		}
	}
}

var reDriver = regexp.MustCompile(`Kernel Module\s+([0-9]+(?:\.[0-9]+)*)`)

// driverVersion reads the loaded NVIDIA kernel module's version.
func driverVersion(sys System) string {
	if b, err := os.ReadFile(sys.sys("/sys/module/nvidia/version")); err == nil {
		return strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(sys.sys("/proc/driver/nvidia/version")); err == nil {
		if m := reDriver.FindSubmatch(b); m != nil {
			return string(m[1])
		}
	}
	return ""
}

// notFound is the error for a missing plugin: where it looked and how to provide one.
func (r *Report) notFound(sys System) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no PJRT %s plugin found for %s; looked in:\n", r.Platform, r.Spec)
	for _, s := range r.Searched {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	if r.Platform == "cuda" {
		fmt.Fprintf(&b, "fix: install JAX's CUDA plugin into a Python environment (pip install \"jax[cuda12]\", which brings jax-cuda12-pjrt and the NVIDIA libraries), "+
			"then point %s at its site-packages folder if it is not one of the above; or set %s to a folder holding pjrt_c_api_cuda_plugin.so; or give the plugin's path: xla:/abs/path/xla_cuda_plugin.so",
			EnvPythonSite, EnvPluginPath)
	} else {
		fmt.Fprintf(&b, "fix: set %s to a folder holding pjrt_c_api_%s_plugin.so, or give the plugin's path: xla:/abs/path/pjrt_c_api_%s_plugin.so (fob never downloads plugins)",
			EnvPluginPath, r.Platform, r.Platform)
	}
	return fmt.Errorf("%s", b.String())
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range in {
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
