package plot

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/fob-go/fob/train/config"
)

//go:embed labels.yaml
var labelsYAML []byte

var (
	labelsOnce sync.Once
	labels     map[string]string
	labelsErr  error
)

// loadLabels parses the embedded labels.yaml once.
func loadLabels() (map[string]string, error) {
	labelsOnce.Do(func() {
		m, err := config.ParseMap(labelsYAML, "eval/plot/labels.yaml")
		if err != nil {
			labelsErr = err
			return
		}
		names, ok := m["names"].(config.Map)
		if !ok {
			labelsErr = fmt.Errorf("eval/plot/labels.yaml: want a map under names:")
			return
		}
		labels = make(map[string]string, len(names))
		for k, v := range names {
			labels[k] = config.PyStr(v)
		}
	})
	return labels, labelsErr
}

// PrettyName is the label shown for a config key or value: its labels.yaml entry, else the
// entry of its last dotted component, else the name with "_" replaced by spaces in Python's
// title case ("test_top1_acc" -> "Test Top1 Acc").
func PrettyName(name string) string {
	names, err := loadLabels()
	if err != nil {
		// The file is embedded and tested; a broken one must not stop a plot.
		names = nil
	}
	if p, ok := names[name]; ok {
		return p
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		if p, ok := names[name[i+1:]]; ok {
			return p
		}
	}
	return pyTitle(strings.ReplaceAll(name, "_", " "))
}

// pyTitle is Python's str.title(): a cased letter following an uncased character is upper
// case, every other cased letter lower case ("top1acc" -> "Top1Acc", "mIoU" -> "Miou").
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		cased := unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
		switch {
		case cased && !prevCased:
			b.WriteRune(unicode.ToTitle(r))
		case cased:
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		prevCased = cased
	}
	return b.String()
}
