package translation

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fob-go/fob/tasks/data"
)

// T5Tokenizer is google-t5/t5-small's sentencepiece model, as FOB's tokenizer loads it. The hub
// publishes no checksum for it, so it is taken as found.
var T5Tokenizer = data.File{
	Name:     "wmt17/spiece.model",
	URLs:     []string{"https://huggingface.co/google-t5/t5-small/resolve/main/spiece.model"},
	Unpinned: true,
}

// GettextCatalogDirs are the folders whose German gettext catalogs make the offline corpus.
var GettextCatalogDirs = []string{"/usr/share/locale/de/LC_MESSAGES", "/usr/share/locale-langpack/de/LC_MESSAGES"}

// gettextSplit assigns a pair to train (90%), val (5%) or test (5%) by a hash of its English
// side, so the split does not depend on file order and equal sources stay together.
func gettextSplit(en string) string {
	h := fnv.New32a()
	h.Write([]byte(en))
	switch v := h.Sum32() % 100; {
	case v < 90:
		return "train"
	case v < 95:
		return "val"
	}
	return "test"
}

// BuildGettextCorpus writes an English-German corpus made of the German gettext catalogs
// (*.mo) in dirs into out, in the WMT17 parquet layout (train/validation/test-00000-of-00001.parquet),
// so the task reads it exactly as it reads WMT17. The text stays on this machine.
func BuildGettextCorpus(ctx context.Context, dirs []string, out string) error {
	var files []string
	for _, dir := range dirs {
		got, _ := filepath.Glob(filepath.Join(dir, "*.mo"))
		files = append(files, got...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return fmt.Errorf("no German gettext catalogs (*.mo) in %s: install Debian packages with German translations (most carry them; e.g. apt-get install coreutils tar), or use task.dataset=wmt17",
			strings.Join(dirs, ", "))
	}
	pairs, err := catalogPairsOf(files)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	bySplit := map[string][]Pair{}
	for _, p := range pairs {
		s := gettextSplit(p.En)
		bySplit[s] = append(bySplit[s], p)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range splitFiles {
		if len(bySplit[s.split]) == 0 {
			return fmt.Errorf("the gettext catalogs in %s give no %s pairs (%d pairs in all); install more packages with German translations",
				strings.Join(dirs, ", "), s.split, len(pairs))
		}
		if err := WritePairs(filepath.Join(out, s.stem+"-00000-of-00001.parquet"), bySplit[s.split]); err != nil {
			return err
		}
	}
	slog.Info("translation: built the gettext corpus", "catalogs", len(files), "train", len(bySplit["train"]),
		"val", len(bySplit["val"]), "test", len(bySplit["test"]), "folder", out)
	return nil
}

// TrainTokenizer trains a T5-style sentencepiece Unigram model (pad 0, </s> 1, <unk> 2, no
// <s>) with Debian's spm_train on both sides of the training pairs, and writes it to path.
func TrainTokenizer(ctx context.Context, train []string, vocab int, path string) error {
	bin, err := exec.LookPath("spm_train")
	if err != nil {
		return fmt.Errorf("no tokenizer at %s, and spm_train (Debian package sentencepiece) is not installed to train one: apt-get install sentencepiece, or name a model with task.tokenizer", path)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".spm-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	text := filepath.Join(tmp, "text.txt")
	f, err := os.Create(text)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	lines := 0
	for _, file := range train {
		pairs, err := ReadPairs(file)
		if err != nil {
			f.Close()
			return err
		}
		for _, p := range pairs {
			fmt.Fprintln(w, strings.ReplaceAll(p.De, "\n", " "))
			fmt.Fprintln(w, strings.ReplaceAll(p.En, "\n", " "))
			lines += 2
		}
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		return err
	}
	prefix := filepath.Join(tmp, "spiece")
	cmd := exec.CommandContext(ctx, bin, "--input="+text, "--model_prefix="+prefix, fmt.Sprintf("--vocab_size=%d", vocab),
		"--model_type=unigram", "--character_coverage=1.0", "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1",
		"--input_sentence_size=2000000", "--shuffle_input_sentence=true", "--num_threads=2", "--minloglevel=2")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("spm_train on %d lines (vocab %d) failed: %v\n%s\n(a smaller task.tokenizer_vocab_size may help)", lines, vocab, err, lastLines(string(out), 5))
	}
	slog.Info("translation: trained a sentencepiece tokenizer", "lines", lines, "vocab", vocab, "path", path)
	return os.Rename(prefix+".model", path)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// WMT17ShardPattern describes the WMT17 de-en files the task reads.
const WMT17ShardPattern = "train-0000{0..3}-of-00004.parquet, validation-00000-of-00001.parquet, test-00000-of-00001.parquet"

// WMT17Files are the Hugging Face wmt/wmt17 de-en parquet shards (pinned revision, see
// data.WMT17DeEnParquet), kept in <data_dir>/translation/wmt17/de-en/ and looked for in
// <mirror>/translation/wmt17/de-en/ first.
func WMT17Files() []data.File {
	var out []data.File
	for _, split := range []string{"validation", "test", "train"} {
		names, urls, _ := data.WMT17DeEnParquet(split)
		for i, n := range names {
			out = append(out, data.File{Name: "wmt17/de-en/" + n, URLs: []string{urls[i]}, Unpinned: true})
		}
	}
	return out
}

// ReadPairs reads a parquet file of the Hugging Face translation layout (translation{de, en}).
func ReadPairs(path string) ([]Pair, error) {
	tp, err := data.ReadTranslations(path, "de", "en")
	if err != nil {
		return nil, err
	}
	out := make([]Pair, len(tp))
	for i, p := range tp {
		out[i] = Pair{De: p.Src, En: p.Tgt}
	}
	return out, nil
}

// WritePairs writes pairs as a parquet file of the Hugging Face translation layout.
func WritePairs(path string, pairs []Pair) error {
	tp := make([]data.TextPair, len(pairs))
	for i, p := range pairs {
		tp[i] = data.TextPair{Src: p.De, Tgt: p.En}
	}
	return data.WriteTranslations(path, "de", "en", tp)
}

// catalogPairsOf reads English-German pairs from gettext catalogs (data.CatalogPairs' rules).
func catalogPairsOf(files []string) ([]Pair, error) {
	tp, err := data.CatalogPairs(files)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, len(tp))
	for i, p := range tp {
		out[i] = Pair{De: p.Tgt, En: p.Src}
	}
	return out, nil
}
