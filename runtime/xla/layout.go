package xla

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LayoutDir is where Prepare lays out links: $FOB_PJRT_DIR, else <user cache>/fob/pjrt.
func LayoutDir(sys System) (string, error) {
	sys = sys.withDefaults()
	if d := sys.Getenv(EnvLayoutDir); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the PJRT plugin layout: %v; set %s", err, EnvLayoutDir)
	}
	return filepath.Join(cache, "fob", "pjrt"), nil
}

// Prepare lays the plugin out in LayoutDir the way go-xla expects it and sets the environment of
// this process. See PrepareIn.
func (r *Report) Prepare() error { return r.PrepareIn(System{}, "") }

// PrepareIn lays out a CUDA plugin as go-xla's own installer does, in dir (LayoutDir when ""):
//
//	dir/nvidia/pjrt_c_api_cuda_plugin.so -> the plugin found
//	dir/nvidia/<cublas, cudnn, cuda_nvcc, ...> -> the NVIDIA wheels' folders
//
// so the plugin's RPATH ($ORIGIN/../nvidia/*/lib) resolves whether or not the loader follows the
// link, and go-xla's own check (an nvidia/ folder beside the plugin's folder) passes. It then sets
// GOMLX_NO_AUTO_INSTALL=1, PJRT_PLUGIN_LIBRARY_PATH (when unset) and adds
// --xla_gpu_cuda_data_dir to XLA_FLAGS when absent (go-xla would otherwise point it at its
// author's home folder). A CPU plugin under another file name gets one link named
// pjrt_c_api_cpu_plugin.so. LoadPath is set to what the loader should open.
func (r *Report) PrepareIn(sys System, dir string) error {
	sys = sys.withDefaults()
	if r.Env == nil {
		r.Env = map[string]string{}
	}
	r.LoadPath = r.PluginPath
	if err := r.setenv(sys, EnvNoAutoInstall, "1"); err != nil {
		return err
	}
	wantName := "pjrt_c_api_" + r.Platform + "_plugin.so"
	base := filepath.Base(r.PluginPath)
	alreadyLaidOut := base == wantName && (r.Platform != "cuda" || filepath.Base(filepath.Dir(r.PluginPath)) == "nvidia")
	if r.Platform != "" && !alreadyLaidOut {
		if dir == "" {
			var err error
			if dir, err = LayoutDir(sys); err != nil {
				return err
			}
		}
		target := dir
		if r.Platform == "cuda" {
			target = filepath.Join(dir, "nvidia")
		}
		links := map[string]string{wantName: r.PluginPath}
		if r.Platform == "cuda" && r.NvidiaRoot != "" {
			entries, err := os.ReadDir(r.NvidiaRoot)
			if err != nil {
				return fmt.Errorf("reading NVIDIA library folder %s: %w", r.NvidiaRoot, err)
			}
			for _, e := range entries {
				if _, taken := links[e.Name()]; !taken && e.Name() != "__pycache__" {
					links[e.Name()] = filepath.Join(r.NvidiaRoot, e.Name())
				}
			}
		}
		if err := linkAll(target, links); err != nil {
			return fmt.Errorf("laying out the PJRT plugin in %s: %w (set %s to a writable folder, or point %s at a folder holding %s)",
				target, err, EnvLayoutDir, EnvPluginPath, wantName)
		}
		r.LayoutDir = target
		r.LoadPath = filepath.Join(target, wantName)
		if sys.Getenv(EnvPluginPath) == "" {
			if err := r.setenv(sys, EnvPluginPath, target); err != nil {
				return err
			}
		}
	}
	if r.Platform == "cuda" {
		flags := sys.Getenv(EnvXLAFlags)
		if !strings.Contains(flags, "--xla_gpu_cuda_data_dir") {
			data := r.CUDADataDir
			if data == "" {
				data = r.NvidiaRoot
			}
			if data == "" && r.LayoutDir != "" {
				data = r.LayoutDir
			}
			if data != "" {
				flags = strings.TrimSpace(flags + " --xla_gpu_cuda_data_dir=" + data)
				if err := r.setenv(sys, EnvXLAFlags, flags); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (r *Report) setenv(sys System, key, value string) error {
	if err := sys.Setenv(key, value); err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	r.Env[key] = value
	return nil
}

// linkAll makes dir/name -> target for every entry, replacing older links atomically (another
// process may be preparing the same folder) and removing links not in the set. Regular files are
// never touched.
func linkAll(dir string, links map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, target := range links {
		p := filepath.Join(dir, name)
		if cur, err := os.Readlink(p); err == nil && cur == target {
			continue
		}
		if st, err := os.Lstat(p); err == nil && st.Mode()&os.ModeSymlink == 0 {
			return fmt.Errorf("%s exists and is not a link", p)
		}
		tmp := fmt.Sprintf("%s.tmp%d", p, os.Getpid())
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			_ = os.Remove(tmp)
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		// Another process's link in the making (name.tmp<pid>) is not stale.
		if _, keep := links[e.Name()]; !keep && e.Type()&os.ModeSymlink != 0 && !strings.Contains(e.Name(), ".tmp") {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// LDLibraryPathHint is the export line that makes the NVIDIA libraries findable when the
// plugin's RPATH does not reach them (the dynamic loader reads LD_LIBRARY_PATH only at process
// start, so it cannot be set from inside fob). Empty when no NVIDIA folders were found.
func (r *Report) LDLibraryPathHint() string {
	if len(r.NvidiaLibDirs) == 0 {
		return ""
	}
	return "export LD_LIBRARY_PATH=" + strings.Join(r.NvidiaLibDirs, ":") + "${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

// CheckAPIVersion compares a plugin's PJRT C API version ("major.minor") with go-xla's. A
// different major version is an error; a different minor version is a warning: PJRT keeps minor
// versions compatible, but a plugin older than the header may lack functions go-xla calls.
func CheckAPIVersion(plugin string) (warning string, err error) {
	pm, pn, err := parseVersion(plugin)
	if err != nil {
		return "", fmt.Errorf("plugin PJRT API version: %w", err)
	}
	gm, gn, _ := parseVersion(GoXLAPJRTAPIVersion)
	switch {
	case pm != gm:
		return "", fmt.Errorf("plugin speaks PJRT C API %s, go-xla v0.1.4 speaks %s: different major versions are incompatible; install a JAX CUDA plugin wheel built for PJRT API %d.x", plugin, GoXLAPJRTAPIVersion, gm)
	case pn < gn:
		return fmt.Sprintf("plugin PJRT C API %s is older than go-xla's %s: calls added since may fail; a newer jax-cuda*-pjrt wheel avoids that", plugin, GoXLAPJRTAPIVersion), nil
	case pn > gn:
		return fmt.Sprintf("plugin PJRT C API %s is newer than go-xla's %s (usually fine: PJRT keeps minor versions compatible)", plugin, GoXLAPJRTAPIVersion), nil
	}
	return "", nil
}

func parseVersion(v string) (major, minor int, err error) {
	a, b, ok := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not major.minor", v)
	}
	if major, err = strconv.Atoi(a); err != nil {
		return 0, 0, fmt.Errorf("%q is not major.minor", v)
	}
	if minor, err = strconv.Atoi(b); err != nil {
		return 0, 0, fmt.Errorf("%q is not major.minor", v)
	}
	return major, minor, nil
}

// String prints the report, one fact per line, for `fob doctor`.
func (r Report) String() string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-16s %s\n", k+":", v)
		}
	}
	line("backend", r.Spec)
	line("plugin", r.PluginPath)
	line("found in", r.Source)
	line("wheel", r.WheelVersion)
	line("site-packages", r.SitePackages)
	if r.LoadPath != "" && r.LoadPath != r.PluginPath {
		line("loaded as", r.LoadPath)
	}
	api := r.PJRTAPIVersion
	if api == "" {
		api = "unknown until loaded"
	}
	line("PJRT C API", api+" (go-xla supports "+GoXLAPJRTAPIVersion+")")
	line("NVIDIA driver", r.DriverVersion)
	line("NVIDIA libs", r.NvidiaRoot)
	for _, d := range r.NvidiaLibDirs {
		fmt.Fprintf(&b, "%-16s %s\n", "", d)
	}
	line("CUDA data dir", r.CUDADataDir)
	for _, d := range r.Devices {
		line("device", d)
	}
	keys := make([]string, 0, len(r.Env))
	for k := range r.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line("env set", k+"="+r.Env[k])
	}
	if h := r.LDLibraryPathHint(); h != "" {
		line("if libs missing", h)
	}
	for _, w := range r.Warnings {
		line("warning", w)
	}
	if len(r.Searched) > 0 {
		fmt.Fprintf(&b, "searched:\n")
		for _, s := range r.Searched {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	return b.String()
}
