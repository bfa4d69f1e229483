package translation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fob-go/fob/internal/atomicfile"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/data/sentencepiece"
	"github.com/fob-go/fob/train/config"
)

// Splits are the data splits in FOB's order, and the file stem each has in the WMT17 layout.
var splitFiles = []struct{ split, stem string }{{"train", "train"}, {"val", "validation"}, {"test", "test"}}

// Data is the translation data module. The corpus is a folder in the layout of the Hugging
// Face wmt17 de-en parquet files (<data_dir>/translation/<dataset>/de-en/<split>-*.parquet with
// a translation{de, en} column), the tokenizer a sentencepiece model. Prepare tokenizes both
// sides of every pair once, drops pairs with a side longer than max_tokens and caches the ids
// in <dataset>/processed with FOB's info.json.
type Data struct {
	env       data.Env
	dataset   string
	tokPath   string // "" = <folder>/spiece.model
	tokVocab  int
	maxTokens int
	buckets   []int
	genBatch  int
	maxValGen int
	src, tgt  string // "en", "de"
	model     config.Map
	vocab     int

	sp     *sentencepiece.Model
	splits map[string]*Split
}

// NewData reads the task's data settings (see default.yaml).
func (Task) NewData(env tasks.DataEnv, cfg config.Map) (tasks.DataModule, error) {
	d := &Data{env: data.EnvFrom(env), model: config.Sub(cfg, "model")}
	var err error
	if d.dataset, err = config.String(cfg, "dataset"); err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	if d.dataset != "wmt17" && d.dataset != "gettext" {
		return nil, fmt.Errorf("task.dataset = %q; valid: wmt17 (WMT17 de-en, as FOB), gettext (this machine's German gettext catalogs)", d.dataset)
	}
	if !config.IsNull(cfg, "tokenizer") {
		if d.tokPath, err = config.String(cfg, "tokenizer"); err != nil {
			return nil, fmt.Errorf("task.%w", err)
		}
	}
	for _, k := range []struct {
		key      string
		dst      *int
		min      int
		nullable bool
	}{
		{"tokenizer_vocab_size", &d.tokVocab, 8, false},
		{"max_tokens", &d.maxTokens, 2, false},
		{"generate_batch_size", &d.genBatch, 1, false},
		{"max_val_generate", &d.maxValGen, 1, true},
		{"model.vocab_size", &d.vocab, 3, false},
	} {
		if k.nullable && config.IsNull(cfg, k.key) {
			continue
		}
		v, err := config.Int(cfg, k.key)
		if err != nil {
			return nil, fmt.Errorf("task.%w", err)
		}
		if v < k.min {
			return nil, fmt.Errorf("task.%s = %d: must be at least %d", k.key, v, k.min)
		}
		*k.dst = v
	}
	raw, _ := config.Get(cfg, "bucket_lengths")
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("task.bucket_lengths = %v: want a list of increasing lengths such as [32, 64, 128]", config.PyRepr(raw))
	}
	for i, v := range list {
		n, ok := v.(int)
		if !ok || n < 1 || i > 0 && n <= d.buckets[i-1] {
			return nil, fmt.Errorf("task.bucket_lengths = %v: want a list of increasing positive lengths such as [32, 64, 128]", config.PyRepr(raw))
		}
		d.buckets = append(d.buckets, n)
	}
	if last := d.buckets[len(d.buckets)-1]; last < d.maxTokens {
		return nil, fmt.Errorf("task.bucket_lengths: the longest bucket (%d) must hold task.max_tokens (%d)", last, d.maxTokens)
	}
	dir, err := config.String(cfg, "model.translation_direction")
	if err != nil {
		return nil, fmt.Errorf("task.%w", err)
	}
	switch dir {
	case "en-de":
		d.src, d.tgt = "en", "de"
	case "de-en":
		d.src, d.tgt = "de", "en"
	default:
		return nil, fmt.Errorf("task.model.translation_direction = %q; valid: en-de, de-en", dir)
	}
	return d, nil
}

// folder is <data_dir>/translation/<dataset>.
func (d *Data) folder() string { return filepath.Join(d.env.DataDir, Name, d.dataset) }

func (d *Data) tokenizerPath() string {
	if d.tokPath != "" {
		return d.tokPath
	}
	return filepath.Join(d.folder(), "spiece.model")
}

// Prepare gets the corpus and the tokenizer and builds the token-id cache (once).
func (d *Data) Prepare(ctx context.Context) error {
	if d.env.DataDir == "" {
		return errors.New("no data directory set (engine.data_dir)")
	}
	files, err := d.corpusFiles(ctx)
	if err != nil {
		return err
	}
	if err := d.ensureTokenizer(ctx, files["train"]); err != nil {
		return err
	}
	return d.ensureProcessed(ctx, files)
}

// corpusFiles returns each split's parquet files, fetching or building them when absent.
func (d *Data) corpusFiles(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	missing := false
	for _, s := range splitFiles {
		got, _ := filepath.Glob(filepath.Join(d.folder(), "de-en", s.stem+"-*.parquet"))
		sort.Strings(got)
		out[s.split] = got
		missing = missing || len(got) == 0
	}
	if !missing {
		return out, nil
	}
	switch d.dataset {
	case "gettext":
		if err := BuildGettextCorpus(ctx, GettextCatalogDirs, filepath.Join(d.folder(), "de-en")); err != nil {
			return nil, err
		}
	default:
		if err := d.fetchWMT17(ctx); err != nil {
			return nil, err
		}
	}
	for _, s := range splitFiles {
		got, _ := filepath.Glob(filepath.Join(d.folder(), "de-en", s.stem+"-*.parquet"))
		sort.Strings(got)
		if len(got) == 0 {
			return nil, fmt.Errorf("no %s files in %s", s.stem, filepath.Join(d.folder(), "de-en"))
		}
		out[s.split] = got
	}
	return out, nil
}

// fetchWMT17 copies the WMT17 de-en parquet shards from the mirror or downloads them.
func (d *Data) fetchWMT17(ctx context.Context) error {
	var errs []error
	for _, f := range WMT17Files() {
		if _, err := data.Fetch(ctx, d.env, Name, f); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w\nWMT17 de-en is not here: put the Hugging Face wmt17 de-en parquet files (%s) into %s, "+
			"or a mirror folder with translation/wmt17/de-en/ (engine.data_mirror); or train offline on this machine's "+
			"German gettext catalogs with task.dataset=gettext",
			errors.Join(errs...), WMT17ShardPattern, filepath.Join(d.folder(), "de-en"))
	}
	return nil
}

// ensureTokenizer makes sure the sentencepiece model exists: T5's for wmt17 (downloaded), one
// trained with Debian's spm_train on the training text for gettext.
func (d *Data) ensureTokenizer(ctx context.Context, train []string) error {
	path := d.tokenizerPath()
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if d.tokPath != "" {
		return fmt.Errorf("task.tokenizer: %s does not exist", d.tokPath)
	}
	if d.dataset == "wmt17" {
		if _, err := data.Fetch(ctx, d.env, Name, T5Tokenizer); err != nil {
			return fmt.Errorf("%w\nthe T5 tokenizer is not here: put google-t5/t5-small's spiece.model at %s or name one with task.tokenizer", err, path)
		}
		return nil
	}
	return TrainTokenizer(ctx, train, d.tokVocab, path)
}

// info is FOB's processed/info.json, plus what the cache was built from.
type info struct {
	MaxTokens    int    `json:"max_tokens"`
	TrainDataLen int    `json:"train_data_len"`
	ValDataLen   int    `json:"val_data_len"`
	TestDataLen  int    `json:"test_data_len"`
	Tokenizer    string `json:"tokenizer_sha256"`
	Dropped      int    `json:"dropped_pairs"`
}

func (d *Data) processedDir() string { return filepath.Join(d.folder(), "processed") }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ensureProcessed tokenizes the corpus into the cache unless a cache built with the same
// tokenizer and max_tokens is there.
func (d *Data) ensureProcessed(ctx context.Context, files map[string][]string) error {
	tokSum, err := fileSHA256(d.tokenizerPath())
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	var have info
	if b, err := os.ReadFile(filepath.Join(d.processedDir(), "info.json")); err == nil && json.Unmarshal(b, &have) == nil &&
		have.Tokenizer == tokSum && have.MaxTokens == d.maxTokens {
		return nil
	}
	sp, err := sentencepiece.Load(d.tokenizerPath())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.processedDir(), 0o755); err != nil {
		return err
	}
	inf := info{MaxTokens: d.maxTokens, Tokenizer: tokSum}
	for _, s := range splitFiles {
		start := time.Now()
		var pairs []Pair
		for _, f := range files[s.split] {
			p, err := ReadPairs(f)
			if err != nil {
				return err
			}
			pairs = append(pairs, p...)
		}
		set, dropped, err := tokenize(ctx, sp, pairs, d.maxTokens, s.split != "train")
		if err != nil {
			return err
		}
		if err := set.write(filepath.Join(d.processedDir(), s.split+".ids")); err != nil {
			return err
		}
		inf.Dropped += dropped
		switch s.split {
		case "train":
			inf.TrainDataLen = set.Len()
		case "val":
			inf.ValDataLen = set.Len()
		default:
			inf.TestDataLen = set.Len()
		}
		slog.Info("translation: tokenized", "split", s.split, "pairs", set.Len(), "dropped", dropped, "seconds", time.Since(start).Round(time.Millisecond).Seconds())
	}
	b, _ := json.MarshalIndent(inf, "", "    ")
	return atomicfile.Write(filepath.Join(d.processedDir(), "info.json"), append(b, '\n'))
}

// Setup loads the tokenizer and the cached ids; the splits are fixed (the seed only shuffles
// batches).
func (d *Data) Setup(ctx context.Context, _ int64) error {
	if _, err := os.Stat(filepath.Join(d.processedDir(), "info.json")); err != nil {
		if err := d.Prepare(ctx); err != nil {
			return err
		}
	}
	sp, err := sentencepiece.Load(d.tokenizerPath())
	if err != nil {
		return err
	}
	if sp.VocabSize() > d.vocab {
		return fmt.Errorf("the tokenizer %s has %d pieces but task.model.vocab_size is %d; set task.model.vocab_size to at least %d",
			d.tokenizerPath(), sp.VocabSize(), d.vocab, sp.VocabSize())
	}
	if sp.PadID() != PadID || sp.EOSID() != EOSID {
		return fmt.Errorf("the tokenizer %s has pad id %d and </s> id %d; T5 needs pad 0 and </s> 1 (train it with --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1)",
			d.tokenizerPath(), sp.PadID(), sp.EOSID())
	}
	d.sp = sp
	d.splits = map[string]*Split{}
	for _, s := range splitFiles {
		set, err := readPairSet(filepath.Join(d.processedDir(), s.split+".ids"))
		if err != nil {
			return err
		}
		d.splits[s.split] = &Split{set: set, src: d.src, tgt: d.tgt, buckets: d.buckets}
	}
	return nil
}

// Split returns "train", "val" or "test".
func (d *Data) Split(name string) (tasks.Dataset, error) {
	s, ok := d.splits[name]
	if !ok {
		return nil, fmt.Errorf("translation: no split %q (train, val, test); was Setup called?", name)
	}
	return s, nil
}

// Split is one split served as teacher-forcing batches in the translation direction.
type Split struct {
	set      *pairSet
	src, tgt string
	buckets  []int
}

// Len is the number of sentence pairs.
func (s *Split) Len() int { return s.set.Len() }

// bucket is the shortest bucket length that holds n tokens.
func (s *Split) bucket(n int) int {
	for _, b := range s.buckets {
		if n <= b {
			return b
		}
	}
	return s.buckets[len(s.buckets)-1]
}

// Batch pads the pairs idx to one bucket length L: input_ids and attention_mask [n, L] from the
// source, decoder_input_ids [n, L] (the start token, pad, then the target shifted right) and the
// target labels [n, L] with IgnoreLabel on padding.
func (s *Split) Batch(idx []int) tasks.Batch {
	longest := 1
	for _, i := range idx {
		longest = max(longest, len(s.set.ids(s.src, i)), len(s.set.ids(s.tgt, i)))
	}
	L := s.bucket(longest)
	n := len(idx)
	in := make([]int64, n*L)
	mask := make([]int64, n*L)
	dec := make([]int64, n*L)
	lab := make([]int64, n*L)
	for r, i := range idx {
		src, tgt := s.set.ids(s.src, i), s.set.ids(s.tgt, i)
		for j := 0; j < L; j++ {
			k := r*L + j
			lab[k] = IgnoreLabel
			if j < len(src) {
				in[k], mask[k] = int64(src[j]), 1
			}
			if j < len(tgt) {
				lab[k] = int64(tgt[j])
			}
			if j > 0 && j-1 < len(tgt) {
				dec[k] = int64(tgt[j-1])
			}
		}
	}
	return tasks.Batch{
		Inputs: map[string]tensor.Tensor{
			"input_ids":         tensor.I64s(in, n, L),
			"attention_mask":    tensor.I64s(mask, n, L),
			"decoder_input_ids": tensor.I64s(dec, n, L),
		},
		Targets: map[string]tensor.Tensor{"labels": tensor.I64s(lab, n, L)},
		Size:    n,
	}
}

// trimText normalises a decoded or reference sentence as FOB does before BLEU (strip).
func trimText(s string) string { return strings.TrimSpace(s) }
