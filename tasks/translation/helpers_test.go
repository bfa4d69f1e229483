package translation

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// needSPM fails the test (CI installs the package) when Debian's spm_train is missing.
func needSPM(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("spm_train"); err != nil {
		t.Fatal("spm_train is not installed: apt-get install sentencepiece (CI and make test install it)")
	}
}

// catalogPairs returns up to n real English-German pairs from this machine's gettext catalogs.
func catalogPairs(t testing.TB, n int) []Pair {
	t.Helper()
	var files []string
	for _, dir := range GettextCatalogDirs {
		got, _ := filepath.Glob(filepath.Join(dir, "*.mo"))
		files = append(files, got...)
	}
	if len(files) == 0 {
		t.Fatal("no German gettext catalogs in /usr/share/locale/de/LC_MESSAGES: install Debian packages with German translations")
	}
	ps, err := catalogPairsOf(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}

// writeCorpus writes train/val/test pairs in the WMT17 parquet layout under
// dataDir/translation/<dataset>/de-en.
func writeCorpus(t testing.TB, dataDir, dataset string, splits map[string][]Pair) {
	t.Helper()
	dir := filepath.Join(dataDir, Name, dataset, "de-en")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range splitFiles {
		if err := WritePairs(filepath.Join(dir, s.stem+"-00000-of-00001.parquet"), splits[s.split]); err != nil {
			t.Fatal(err)
		}
	}
}

// taskConfig returns the task section of default.yaml with overrides (dotted keys).
func taskConfig(t testing.TB, overrides map[string]any) config.Map {
	t.Helper()
	m, err := config.ParseMap(defaultYAML, "default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Sub(m, "task")
	for k, v := range overrides {
		config.Set(cfg, k, v)
	}
	return cfg
}

// setupData prepares and sets up the data module for cfg in dataDir.
func setupData(t testing.TB, dataDir string, cfg config.Map) *Data {
	t.Helper()
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dataDir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return dm.(*Data)
}
