package translation

import (
	"bufio"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/fob-go/fob/internal/atomicfile"
	"github.com/fob-go/fob/tasks/data/sentencepiece"
)

// T5's special token ids (HF's T5 tokenizer and T5Config): padding doubles as the decoder's
// start token.
const (
	PadID = 0
	EOSID = 1
)

// Pair is one German-English sentence pair.
type Pair struct{ De, En string }

// pairSet holds the token ids of both sides of every pair (each ending in </s>), flat with
// offsets, and for val and test the raw text that BLEU compares with.
type pairSet struct {
	Flat map[string][]uint32 // by language
	Off  map[string][]uint32 // len = pairs+1
	Text map[string][]string // val/test only
}

// Len is the number of pairs.
func (p *pairSet) Len() int { return len(p.Off["de"]) - 1 }

// ids returns pair i's ids in lang.
func (p *pairSet) ids(lang string, i int) []uint32 {
	off := p.Off[lang]
	return p.Flat[lang][off[i]:off[i+1]]
}

// text returns pair i's raw sentence in lang ("" when the set keeps no text).
func (p *pairSet) text(lang string, i int) string {
	if t := p.Text[lang]; t != nil {
		return t[i]
	}
	return ""
}

// tokenize encodes both sides of every pair with </s> appended (as HF's T5 tokenizer does) and
// drops pairs with a side longer than maxTokens; keepText keeps the raw sentences. Encoding
// runs on all cores; the order of pairs is kept.
func tokenize(ctx context.Context, sp *sentencepiece.Model, pairs []Pair, maxTokens int, keepText bool) (*pairSet, int, error) {
	type enc struct{ de, en []int }
	out := make([]enc, len(pairs))
	workers := max(1, runtime.GOMAXPROCS(0))
	chunk := (len(pairs) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(len(pairs), (w+1)*chunk)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if i%4096 == 0 && ctx.Err() != nil {
					return
				}
				out[i] = enc{append(sp.Encode(pairs[i].De), EOSID), append(sp.Encode(pairs[i].En), EOSID)}
			}
		}(lo, hi)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	set := &pairSet{
		Flat: map[string][]uint32{}, Off: map[string][]uint32{"de": {0}, "en": {0}},
	}
	if keepText {
		set.Text = map[string][]string{"de": nil, "en": nil}
	}
	dropped := 0
	for i, e := range out {
		if len(e.de) > maxTokens || len(e.en) > maxTokens {
			dropped++
			continue
		}
		for lang, ids := range map[string][]int{"de": e.de, "en": e.en} {
			for _, id := range ids {
				set.Flat[lang] = append(set.Flat[lang], uint32(id))
			}
			set.Off[lang] = append(set.Off[lang], uint32(len(set.Flat[lang])))
		}
		if keepText {
			set.Text["de"] = append(set.Text["de"], pairs[i].De)
			set.Text["en"] = append(set.Text["en"], pairs[i].En)
		}
	}
	return set, dropped, nil
}

// pairSetMagic starts every ids cache file (format version 1: a gob-encoded pairSet).
const pairSetMagic = "fob-translation-ids-v1\n"

func (p *pairSet) write(path string) error {
	return atomicfile.WriteFunc(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, pairSetMagic); err != nil {
			return err
		}
		return gob.NewEncoder(w).Encode(p)
	})
}

func readPairSet(path string) (*pairSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("translation: %w (run fob setup, or delete the processed folder to rebuild it)", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	head := make([]byte, len(pairSetMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != pairSetMagic {
		return nil, fmt.Errorf("translation: %s is not a fob token-id cache; delete its folder to rebuild it", path)
	}
	var p pairSet
	if err := gob.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("translation: %s is damaged (%v); delete its folder to rebuild it", path, err)
	}
	for _, lang := range []string{"de", "en"} {
		off := p.Off[lang]
		if len(off) == 0 || len(off) != len(p.Off["de"]) || int(off[len(off)-1]) != len(p.Flat[lang]) {
			return nil, fmt.Errorf("translation: %s is damaged (inconsistent offsets); delete its folder to rebuild it", path)
		}
		for i := 1; i < len(off); i++ {
			if off[i] < off[i-1] {
				return nil, fmt.Errorf("translation: %s is damaged (offsets decrease); delete its folder to rebuild it", path)
			}
		}
		if t := p.Text[lang]; t != nil && len(t) != p.Len() {
			return nil, fmt.Errorf("translation: %s is damaged (text count); delete its folder to rebuild it", path)
		}
	}
	return &p, nil
}
