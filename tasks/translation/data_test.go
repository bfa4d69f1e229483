package translation

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
)

// smallCorpus writes real catalog pairs as a tiny WMT17-layout corpus with a T5-layout
// tokenizer trained by spm_train, and returns the data folder and the pairs by split.
func smallCorpus(t *testing.T, n, vocab int) (string, map[string][]Pair) {
	t.Helper()
	needSPM(t)
	ps := catalogPairs(t, n)
	if len(ps) < n {
		t.Fatalf("only %d catalog pairs", len(ps))
	}
	splits := map[string][]Pair{"train": ps[:n*8/10], "val": ps[n*8/10 : n*9/10], "test": ps[n*9/10:]}
	dir := t.TempDir()
	writeCorpus(t, dir, "wmt17", splits)
	train, _ := filepath.Glob(filepath.Join(dir, Name, "wmt17", "de-en", "train-*.parquet"))
	if err := TrainTokenizer(context.Background(), train, vocab, filepath.Join(dir, Name, "wmt17", "spiece.model")); err != nil {
		t.Fatal(err)
	}
	return dir, splits
}

func TestDataPipeline(t *testing.T) {
	dir, splits := smallCorpus(t, 2000, 800)
	cfg := taskConfig(t, map[string]any{"model.vocab_size": 800, "max_tokens": 24, "bucket_lengths": []any{8, 16, 24}})
	d := setupData(t, dir, cfg)

	// info.json as FOB writes it, with the dropped long pairs.
	b, err := os.ReadFile(filepath.Join(dir, Name, "wmt17", "processed", "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"max_tokens": 24`, `"train_data_len"`, `"val_data_len"`, `"test_data_len"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("info.json lacks %s:\n%s", key, b)
		}
	}
	total := 0
	for _, s := range []string{"train", "val", "test"} {
		ds, _ := d.Split(s)
		total += ds.Len()
		if ds.Len() == 0 || ds.Len() > len(splits[s]) {
			t.Errorf("%s: %d pairs of %d", s, ds.Len(), len(splits[s]))
		}
	}
	if total == 2000 {
		t.Error("no pair was dropped by max_tokens=24; the fixture should have long ones")
	}

	// Every kept pair is within max_tokens and ends in </s>; the val text is the source text.
	val := d.splits["val"]
	for i := 0; i < val.Len(); i++ {
		for _, lang := range []string{"de", "en"} {
			ids := val.set.ids(lang, i)
			if len(ids) > 24 || ids[len(ids)-1] != EOSID {
				t.Fatalf("val pair %d %s: ids %v", i, lang, ids)
			}
			got := d.sp.Decode(toInts(ids))
			if want := d.sp.Decode(d.sp.Encode(val.set.text(lang, i))); got != want {
				t.Fatalf("val pair %d %s decodes to %q, want %q", i, lang, got, want)
			}
		}
	}

	// A batch: en→de, padded to one bucket, decoder inputs shifted right behind the start token.
	tr := d.splits["train"]
	b0 := tr.Batch([]int{0, 1, 2})
	in, dec, lab, mask := b0.Inputs["input_ids"], b0.Inputs["decoder_input_ids"], b0.Targets["labels"], b0.Inputs["attention_mask"]
	L := in.Shape[1]
	if L != 8 && L != 16 && L != 24 || dec.Shape[1] != L || lab.Shape[1] != L {
		t.Fatalf("batch shapes %v %v %v", in.Shape, dec.Shape, lab.Shape)
	}
	for r, i := range []int{0, 1, 2} {
		src, tgt := tr.set.ids("en", i), tr.set.ids("de", i)
		for j := 0; j < L; j++ {
			k := r*L + j
			wantIn, wantMask, wantLab, wantDec := int64(0), int64(0), int64(IgnoreLabel), int64(PadID)
			if j < len(src) {
				wantIn, wantMask = int64(src[j]), 1
			}
			if j < len(tgt) {
				wantLab = int64(tgt[j])
			}
			if j > 0 && j <= len(tgt) {
				wantDec = int64(tgt[j-1])
			}
			if in.I64[k] != wantIn || mask.I64[k] != wantMask || lab.I64[k] != wantLab || dec.I64[k] != wantDec {
				t.Fatalf("row %d pos %d: input %d mask %d label %d decoder %d; want %d %d %d %d", r, j,
					in.I64[k], mask.I64[k], lab.I64[k], dec.I64[k], wantIn, wantMask, wantLab, wantDec)
			}
		}
	}

	// The cache is reused: a second Prepare leaves it untouched.
	idsPath := filepath.Join(dir, Name, "wmt17", "processed", "train.ids")
	st0, _ := os.Stat(idsPath)
	dm2, err := Task{}.NewData(tasks.DataEnv{DataDir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dm2.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st1, _ := os.Stat(idsPath); !st1.ModTime().Equal(st0.ModTime()) {
		t.Error("Prepare rebuilt an up-to-date cache")
	}

	// A damaged cache is reported with the fix.
	if err := os.WriteFile(idsPath, []byte("fob-translation-ids-v1\ngarbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := dm2.Setup(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "delete its folder") {
		t.Errorf("damaged cache: %v", err)
	}
}

func toInts(ids []uint32) []int {
	out := make([]int, len(ids))
	for i, v := range ids {
		out[i] = int(v)
	}
	return out
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no network here or in CI: the download must not be what the test depends on
	for _, tc := range []struct {
		name      string
		overrides map[string]any
		want      string
	}{
		{"dataset", map[string]any{"dataset": "wmt14"}, `task.dataset = "wmt14"; valid: wmt17`},
		{"direction", map[string]any{"model.translation_direction": "fr-en"}, "valid: en-de, de-en"},
		{"buckets", map[string]any{"bucket_lengths": []any{64, 32}}, "increasing"},
		{"bucket too short", map[string]any{"bucket_lengths": []any{16, 32}}, "must hold task.max_tokens"},
		{"max tokens", map[string]any{"max_tokens": 1}, "task.max_tokens = 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Task{}.NewData(tasks.DataEnv{DataDir: dir}, taskConfig(t, tc.overrides))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// No WMT17 files: the message says what to put where.
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dir}, taskConfig(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	err = dm.Prepare(ctx)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, Name, "wmt17", "de-en")) || !strings.Contains(err.Error(), "task.dataset=gettext") {
		t.Errorf("missing data: %v", err)
	}
}
