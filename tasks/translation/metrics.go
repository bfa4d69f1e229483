package translation

import (
	"math"

	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
)

// metrics accumulates the token cross-entropy on the host; val and test also carry
// <split>_bleu, which GenerateMetrics fills in after decoding.
type metrics struct {
	split string
	loss  float64
	n     float64
}

// Add scores one batch: logits [batch, len, vocab] against labels [batch, len].
func (m *metrics) Add(outputs map[string]tensor.Tensor, b tasks.Batch) {
	if m.split == "train" {
		return // the trainer logs train_loss from the step itself
	}
	logits, labels := outputs["logits"], b.Targets["labels"]
	if len(logits.Shape) != 3 {
		return
	}
	vocab := logits.Shape[2]
	for i, y := range labels.I64 {
		if y == IgnoreLabel || y < 0 || int(y) >= vocab {
			continue
		}
		m.loss += tokenNLL(logits.F32[i*vocab:(i+1)*vocab], int(y))
		m.n++
	}
}

// tokenNLL is -log softmax(row)[y], computed stably in float64.
func tokenNLL(row []float32, y int) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v) - mx)
	}
	return math.Log(z) - (float64(row[y]) - mx)
}

// Result returns <split>_loss and <split>_bleu (NaN until decoding fills it) for val and test;
// nothing for train, whose loss the trainer takes from the steps.
func (m *metrics) Result() map[string]float64 {
	if m.split == "train" {
		return map[string]float64{}
	}
	out := map[string]float64{m.split + "_loss": math.NaN()}
	if m.n > 0 {
		out[m.split+"_loss"] = m.loss / m.n
	}
	if m.split != "train" {
		out[m.split+"_bleu"] = math.NaN()
	}
	return out
}
