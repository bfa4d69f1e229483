package translation_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/fob-go/fob/tasks/all"
	"github.com/fob-go/fob/tasks/translation"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/all"
)

// tinyRun resolves a translation run named by its short name, on a corpus of catalog pairs
// prepared in dataDir, with a tiny T5.
func tinyRun(t *testing.T, dataDir, outDir string, extra ...string) experiment.Run {
	t.Helper()
	overrides := append([]string{
		"task.name=wmt", "optimizer.name=adamw_baseline", "engine.output_dir=" + outDir, "engine.data_dir=" + dataDir,
		"engine.silent=true", "engine.devices=1", "task.dataset=gettext", "task.max_epochs=2", "task.batch_size=32",
		"task.max_tokens=16", "task.bucket_lengths=!literal [8, 16]", "task.max_val_generate=40", "task.generate_batch_size=16",
		"task.model.vocab_size=600", "task.model.d_model=32", "task.model.d_kv=8", "task.model.d_ff=64",
		"task.model.num_layers=1", "task.model.num_decoder_layers=1", "task.model.num_heads=4",
		"task.model.max_length=16", "task.model.num_beams=2",
	}, extra...)
	exp, err := experiment.ParseBytes([]byte("{}"), "test", overrides, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Runs) != 1 {
		t.Fatalf("%d runs", len(exp.Runs))
	}
	return exp.Runs[0]
}

// TestTrainEndToEnd trains a tiny T5 through the whole run lifecycle (named by its short name
// wmt) on a small corpus in the gettext layout: validation BLEU is logged every epoch and the
// test split is decoded by onnxruntime with beam search from the exported checkpoints.
func TestTrainEndToEnd(t *testing.T) {
	data := t.TempDir()
	writeSmallGettextCorpus(t, data, 1200, 600)
	run := tinyRun(t, data, t.TempDir())
	if got := run.Config["task"].(map[string]any)["name"]; got != "translation" {
		t.Fatalf("task.name = %v after resolving the alias wmt", got)
	}
	if !strings.Contains(filepath.ToSlash(run.Dir), "/translation/") {
		t.Errorf("run folder %s is not under translation/", run.Dir)
	}
	if _, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: io.Discard}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results_final_model.json", "results_best_model.json"} {
		b, err := os.ReadFile(filepath.Join(run.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var res []map[string]float64
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		loss, bleu := res[0]["test_loss"], res[0]["test_bleu"]
		if math.IsNaN(loss) || loss <= 0 || math.IsNaN(bleu) || bleu < 0 || bleu > 100 {
			t.Errorf("%s: test_loss %v test_bleu %v", f, loss, bleu)
		}
	}
	csv, err := os.ReadFile(filepath.Join(run.Dir, "csv_logs", "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.SplitN(string(csv), "\n", 2)[0], "val_bleu") {
		t.Errorf("metrics.csv has no val_bleu column:\n%s", csv)
	}
}

// writeSmallGettextCorpus puts n catalog pairs, in the gettext dataset's layout, and a tokenizer
// of vocab pieces into data, so the run does not build the full corpus.
func writeSmallGettextCorpus(t *testing.T, data string, n, vocab int) {
	t.Helper()
	dir := filepath.Join(data, translation.Name, "gettext", "de-en")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	full := t.TempDir()
	if err := translation.BuildGettextCorpus(context.Background(), translation.GettextCatalogDirs, full); err != nil {
		t.Fatal(err)
	}
	for _, stem := range []string{"train", "validation", "test"} {
		name := stem + "-00000-of-00001.parquet"
		ps, err := translation.ReadPairs(filepath.Join(full, name))
		if err != nil {
			t.Fatal(err)
		}
		keep := n
		if stem != "train" {
			keep = n / 10
		}
		if len(ps) > keep {
			ps = ps[:keep]
		}
		if err := translation.WritePairs(filepath.Join(dir, name), ps); err != nil {
			t.Fatal(err)
		}
	}
	train, _ := filepath.Glob(filepath.Join(dir, "train-*.parquet"))
	if err := translation.TrainTokenizer(context.Background(), train, vocab, filepath.Join(data, translation.Name, "gettext", "spiece.model")); err != nil {
		t.Fatal(err)
	}
}
