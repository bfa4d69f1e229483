//go:build !cgo || noxla

package runtime

import (
	"fmt"

	fobxla "github.com/fob-go/fob/runtime/xla"
	"github.com/gomlx/gomlx/backends"
)

// XLALinked reports whether this binary can load PJRT plugins (cgo build without the noxla tag).
const XLALinked = false

const rebuildHint = "this fob was built without XLA (CGO_ENABLED=0 or -tags noxla); rebuild with cgo and a C compiler and without the noxla tag: CGO_ENABLED=1 go build ./cmd/fob"

func newXLABackend(config string) (backends.Backend, error) {
	return nil, fmt.Errorf("backend %q: %s", "xla:"+config, rebuildHint)
}

// ProbeXLA discovers the plugin for spec but cannot load it in a build without XLA: the report
// says what was found, the error how to rebuild.
func ProbeXLA(spec string) (fobxla.Report, error) {
	rep, err := fobxla.Discover(spec)
	if err != nil {
		return rep, err
	}
	return rep, fmt.Errorf("%s", rebuildHint)
}
