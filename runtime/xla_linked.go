//go:build cgo && !noxla

package runtime

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	fobxla "github.com/fob-go/fob/runtime/xla"
	"github.com/gomlx/gomlx/backends"
	gomlxxla "github.com/gomlx/gomlx/backends/xla"
)

// XLALinked reports whether this binary can load PJRT plugins (cgo build without the noxla tag).
const XLALinked = true

// newXLABackend discovers the plugin for config ("cpu", "cuda", "/abs/plugin.so", each optionally
// followed by ",<GoMLX plugin options>"), lays it out and loads it.
func newXLABackend(config string) (backends.Backend, error) {
	b, _, err := openXLA(config)
	return b, err
}

// ProbeXLA discovers, lays out and loads the plugin for spec (e.g. "xla:cuda"), fills in the
// report what the loaded plugin says (PJRT API version, devices) and releases it again. It is
// the full check behind `fob doctor`; the report is returned even on error.
func ProbeXLA(spec string) (rep fobxla.Report, err error) {
	defer recoverTo(&err, fmt.Sprintf("probing %q", spec))
	config := strings.TrimPrefix(spec, "xla:")
	b, rep, err := openXLA(config)
	if err != nil {
		return rep, err
	}
	defer b.Finalize()
	for i := range b.NumDevices() {
		rep.Devices = append(rep.Devices, b.DeviceDescription(backends.DeviceNum(i)))
	}
	return rep, nil
}

var rePJRTVersion = regexp.MustCompile(`\) v(\d+)\.(\d+)`)

func openXLA(config string) (b backends.Backend, rep fobxla.Report, err error) {
	// GoMLX's XLA backend downloads plugins unless told not to; its flag is read at package
	// init, so set both the variable (for child processes) and the switch.
	_ = os.Setenv(fobxla.EnvNoAutoInstall, "1")
	gomlxxla.EnableAutoInstall(false)

	_, _, options, err := fobxla.ParseSpec(config)
	if err != nil {
		return nil, rep, err
	}
	if rep, err = fobxla.Discover(config); err != nil {
		return nil, rep, err
	}
	if err = rep.Prepare(); err != nil {
		return nil, rep, err
	}
	if rep.Platform == "cpu" && !strings.Contains(options, "shared_buffers") {
		// GoMLX enables zero-copy buffers only for a plugin named "cpu"; an absolute path loses that.
		options += ",shared_buffers"
	}
	var xb *gomlxxla.Backend
	func() {
		defer recoverTo(&err, "loading PJRT plugin "+rep.LoadPath)
		xb, err = gomlxxla.NewWithOptions(rep.LoadPath+options, nil)
	}()
	if err != nil {
		msg := fmt.Sprintf("XLA backend %q: %v", "xla:"+config, err)
		if h := rep.LDLibraryPathHint(); h != "" && strings.Contains(err.Error(), ".so") {
			msg += "\nif a NVIDIA library was not found, start fob with: " + h
		}
		return nil, rep, fmt.Errorf("%s\n%s", msg, rep.String())
	}
	if m := rePJRTVersion.FindStringSubmatch(xb.Description()); m != nil {
		rep.PJRTAPIVersion = m[1] + "." + m[2]
		warning, verr := fobxla.CheckAPIVersion(rep.PJRTAPIVersion)
		if verr != nil {
			xb.Finalize()
			return nil, rep, fmt.Errorf("XLA backend %q (plugin %s): %w", "xla:"+config, rep.PluginPath, verr)
		}
		if warning != "" {
			rep.Warnings = append(rep.Warnings, warning)
		}
	} else {
		rep.Warnings = append(rep.Warnings, "could not read the PJRT API version from "+xb.Description())
	}
	return xb, rep, nil
}
