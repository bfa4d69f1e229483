package experiment

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/fob-go/fob/train/config"
)

// NameRelevantEngineKeys are the engine keys that change results and so appear in run-folder
// names; every other engine key (paths, logging, scheduling, resume, ...) is left out, so that
// e.g. resuming with more restrict_train_epochs reuses the folder (docs/fob-behaviour.md §1.5).
var NameRelevantEngineKeys = []string{
	"accelerator", "deterministic", "detect_anomaly", "devices", "early_stopping",
	"gradient_clip_alg", "gradient_clip_val", "optimize_memory", "precision", "seed",
}

// maxNameLen is the longest folder name kept; longer ones become their MD5.
const maxNameLen = 254

// RunName is the folder name of a run: the settings where cfg differs from def (the run's
// default config, built from its task and optimizer names alone), as sorted "dotted.key=value"
// pairs joined by ",", with values formatted as Python's str(); "default" when nothing differs;
// the MD5 hex of that text when it is longer than 254 characters (or 255 bytes, the most a
// folder name may have). Keys whose bare name is "evaluation", "output_dir_name" or a
// non-relevant engine key are skipped at any depth, as FOB does (so task.max_steps never
// appears). An external model (task.model.onnx) contributes its file's base name and a short
// hash of its path, and a name that is not a plain folder name (a value with "/", "\\", a
// control character) is made one by SafeName.
func RunName(cfg, def config.Map) string {
	exclude := excludedNameKeys(cfg)
	flat := map[string]any{}
	flatten(diff(cfg, def), "", exclude, flat)
	if len(flat) == 0 {
		return "default"
	}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := config.PyStr(flat[k])
		if k == "task.model.onnx" && strings.ContainsAny(v, `/\`) {
			v = path.Base(strings.ReplaceAll(v, `\`, "/")) + "~" + shortHash(v)
		}
		parts[i] = k + "=" + v
	}
	name := strings.Join(parts, ",")
	if utf8.RuneCountInString(name) > maxNameLen {
		sum := md5.Sum([]byte(name))
		return hex.EncodeToString(sum[:])
	}
	if safe := SafeName(name); len(safe) <= maxNameBytes {
		return safe
	}
	sum := md5.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// maxNameBytes is the longest folder name Linux and macOS file systems take (NAME_MAX).
const maxNameBytes = 255

// SafeName returns name as one plain folder name, unchanged when it already is one: not empty,
// no "/", "\\", NUL or other control character, not starting with a dot (".", ".." and hidden
// names), at most 255 bytes. Otherwise each such character (and each leading dot) becomes "_",
// an over-long name is cut, and "~" with eight hex digits of the original's SHA-256 is
// appended, so that two different values never share a folder.
func SafeName(name string) string {
	if isPlainName(name) {
		return name
	}
	b := []byte(name)
	for i, c := range b {
		if c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
			b[i] = '_'
		}
	}
	for i := 0; i < len(b) && b[i] == '.'; i++ {
		b[i] = '_'
	}
	clean := strings.ToValidUTF8(string(b), "_")
	if clean == "" {
		clean = "_"
	}
	suffix := "~" + shortHash(name)
	if len(clean)+len(suffix) > maxNameBytes {
		cut := maxNameBytes - len(suffix)
		for cut > 0 && !utf8.RuneStart(clean[cut]) {
			cut--
		}
		clean = clean[:cut]
	}
	return clean + suffix
}

// isPlainName reports whether name can be used as one folder name as it is.
func isPlainName(name string) bool {
	if name == "" || name[0] == '.' || len(name) > maxNameBytes || !utf8.ValidString(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' || c == '\\' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// shortHash is the first eight hex digits of s's SHA-256.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// RunDir is engine.output_dir (made absolute) / task.output_dir_name /
// optimizer.output_dir_name / RunName(cfg, def), each of the three a plain folder name
// (SafeName), so that no value can place a run outside engine.output_dir or in nested folders.
func RunDir(cfg, def config.Map) (string, error) {
	out, err := config.String(cfg, "engine.output_dir")
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(abs, outputDirName(cfg, "task"), outputDirName(cfg, "optimizer"), RunName(cfg, def))
	if rel, err := filepath.Rel(abs, dir); err != nil || strings.Count(rel, string(filepath.Separator)) != 2 || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("run folder %s is not three levels inside engine.output_dir %s; check task.output_dir_name and optimizer.output_dir_name", dir, abs)
	}
	return dir, nil
}

// outputDirName is section.output_dir_name, defaulting to section.name, as a plain folder name.
func outputDirName(cfg config.Map, section string) string {
	if s, ok := config.Sub(cfg, section)["output_dir_name"]; ok && s != nil {
		return SafeName(config.PyStr(s))
	}
	return SafeName(config.PyStr(config.Sub(cfg, section)["name"]))
}

// excludedNameKeys is FOB's exclusion set: evaluation, output_dir_name, and every engine key of
// the run (plus max_steps, which FOB copies into the engine view) that is not name-relevant.
func excludedNameKeys(cfg config.Map) map[string]bool {
	ex := map[string]bool{"evaluation": true, "output_dir_name": true, "max_steps": true}
	for k := range config.Sub(cfg, "engine") {
		ex[k] = true
	}
	for _, k := range NameRelevantEngineKeys {
		delete(ex, k)
	}
	return ex
}

// diff keeps the keys of run whose value differs from def's (Python !=) or that def lacks;
// where both are maps it keeps the sub-difference. Keys only in def are ignored.
func diff(run, def config.Map) config.Map {
	d := config.Map{}
	for k, v := range run {
		dv, ok := def[k]
		if !ok {
			d[k] = v
			continue
		}
		if config.Equal(v, dv) {
			continue
		}
		vm, vIsMap := v.(config.Map)
		dm, dIsMap := dv.(config.Map)
		if vIsMap && dIsMap {
			d[k] = diff(vm, dm)
		} else {
			d[k] = v
		}
	}
	return d
}

// flatten turns nested maps into dotted keys, skipping excluded bare names at any depth.
func flatten(m config.Map, prefix string, exclude map[string]bool, out map[string]any) {
	for k, v := range m {
		if exclude[k] {
			continue
		}
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(config.Map); ok {
			flatten(sub, key, exclude, out)
			continue
		}
		out[key] = v
	}
}
