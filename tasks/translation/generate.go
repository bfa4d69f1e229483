package translation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fob-go/fob/eval/bleu"
	"github.com/fob-go/fob/eval/generate"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/train/config"
)

// DecodeSettings are the generation settings of a split, as FOB's: greedy for validation,
// beam search with task.model.num_beams and length_penalty for the test; both stop at
// task.model.max_length.
func (d *Data) DecodeSettings(split string) (generate.Params, error) {
	p := generate.Params{NumBeams: 1, LengthPenalty: 1, BatchSize: d.genBatch, Tokens: &generate.T5Tokens}
	var err error
	if p.MaxLength, err = config.Int(d.model, "max_length"); err != nil {
		return p, fmt.Errorf("task.model.%w", err)
	}
	if split == "test" {
		if p.NumBeams, err = config.Int(d.model, "num_beams"); err != nil {
			return p, fmt.Errorf("task.model.%w", err)
		}
		if p.LengthPenalty, err = config.Float(d.model, "length_penalty"); err != nil {
			return p, fmt.Errorf("task.model.%w", err)
		}
	}
	if p.NumBeams < 1 || p.MaxLength < 2 {
		return p, fmt.Errorf("task.model: num_beams %d must be at least 1 and max_length %d at least 2", p.NumBeams, p.MaxLength)
	}
	return p, nil
}

// GenerateMetrics decodes the split's sources with the model (its encoder and KV-cached
// decoder-step graphs, derived from the trained graph's weights) in onnxruntime and scores the
// detokenized outputs against the raw reference sentences with sacreBLEU's corpus BLEU:
// <split>_bleu on the 0-100 scale.
func (Task) GenerateMetrics(ctx context.Context, model *onnxpb.ModelProto, dm tasks.DataModule, split string) (map[string]float64, error) {
	d, ok := dm.(*Data)
	if !ok {
		return nil, fmt.Errorf("translation: data module is %T, not the translation task's", dm)
	}
	s, ok := d.splits[split]
	if !ok {
		return nil, fmt.Errorf("translation: no split %q set up", split)
	}
	params, err := d.DecodeSettings(split)
	if err != nil {
		return nil, err
	}
	n := s.Len()
	if split == "val" && d.maxValGen > 0 {
		n = min(n, d.maxValGen)
	}
	t5, err := ModelConfig(config.Map{"model": d.model})
	if err != nil {
		return nil, err
	}
	enc, dec, err := t5.DecodingGraphs(model)
	if err != nil {
		return nil, fmt.Errorf("translation: building the decoding graphs: %w", err)
	}
	encB, err := onnx.Marshal(enc)
	if err != nil {
		return nil, err
	}
	decB, err := onnx.Marshal(dec)
	if err != nil {
		return nil, err
	}
	gen, err := generate.NewT5(encB, decB, generate.T5Options{})
	if err != nil {
		return nil, err
	}
	defer gen.Close()
	srcs := make([][]int, n)
	refs := make([]string, n)
	for i := range srcs {
		ids := s.set.ids(d.src, i)
		srcs[i] = make([]int, len(ids))
		for j, v := range ids {
			srcs[i][j] = int(v)
		}
		refs[i] = trimText(s.set.text(d.tgt, i))
	}
	start := time.Now()
	outs, err := gen.Generate(ctx, srcs, params)
	if err != nil {
		return nil, err
	}
	hyps := make([]string, n)
	tokens := 0
	for i, o := range outs {
		hyps[i] = trimText(d.sp.Decode(o))
		tokens += len(o)
	}
	score, err := bleu.Corpus(hyps, [][]string{refs})
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	slog.Info("translation: decoded", "split", split, "sentences", n, "beams", params.NumBeams,
		"ms_per_token", float64(el.Milliseconds())/float64(max(tokens, 1)), "bleu", score.String())
	for i := 0; i < min(n, 2); i++ {
		slog.Debug("translation: sample", "source", s.set.text(d.src, i), "output", hyps[i], "reference", refs[i])
	}
	return map[string]float64{split + "_bleu": score.Score}, nil
}
