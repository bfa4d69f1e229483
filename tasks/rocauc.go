package tasks

import (
	"errors"
	"log/slog"
	"math"
	"sort"

	"github.com/fob-go/fob/runtime/tensor"
)

// ErrOneClass is ROCAUC's error when the labels hold a single class, where the area is undefined
// (OGB's evaluator raises "No positively labeled data available. Cannot compute ROC-AUC.").
var ErrOneClass = errors.New("ROC-AUC needs both positive and negative labels")

// ROCAUC is the area under the ROC curve of scores against 0/1 labels, as sklearn's
// roc_auc_score (which OGB's evaluator calls) computes it: thresholds at the distinct scores,
// tied scores moving the curve diagonally (a tie counts half), trapezoidal area. Labels that are
// NaN are left out, as OGB's evaluator leaves out unlabelled entries.
func ROCAUC(labels, scores []float64) (float64, error) {
	type pair struct{ s, y float64 }
	ps := make([]pair, 0, len(labels))
	var pos, neg float64
	for i, y := range labels {
		if math.IsNaN(y) {
			continue
		}
		ps = append(ps, pair{scores[i], y})
		if y > 0 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return 0, ErrOneClass
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].s > ps[j].s })
	// Walk thresholds from the highest score down; each group of equal scores adds a trapezoid.
	var tp, fp, area float64
	for i := 0; i < len(ps); {
		j := i
		var dtp, dfp float64
		for ; j < len(ps) && ps[j].s == ps[i].s; j++ {
			if ps[j].y > 0 {
				dtp++
			} else {
				dfp++
			}
		}
		area += dfp * (tp + dtp/2)
		tp += dtp
		fp += dfp
		i = j
	}
	return area / (pos * neg), nil
}

// BinaryROC accumulates a binary classifier's loss and ROC-AUC over a split on the host: the
// score is column Column of the logits output, the loss binary cross-entropy with logits
// against the float label, averaged over the examples whose Mask target is non-zero. Result
// reports <split>_loss and <split>_rocauc; an undefined ROC-AUC (one class only) is reported as
// 0 with a warning, as FOB does when OGB's evaluator raises.
type BinaryROC struct {
	Split          string
	Logits, Labels string // output and target names
	Column         int    // the logit column scored
	Mask           string // optional target name of a 0/1 mask (padding)
	labels, scores []float64
	loss           float64
}

// Add scores one batch.
func (r *BinaryROC) Add(outputs map[string]tensor.Tensor, b Batch) {
	logits, labels := outputs[r.Logits], b.Targets[r.Labels]
	k := logits.Shape[len(logits.Shape)-1]
	var mask []float32
	if r.Mask != "" {
		mask = b.Targets[r.Mask].F32
	}
	for i, y := range labels.F32 {
		if mask != nil && mask[i] == 0 || math.IsNaN(float64(y)) {
			continue
		}
		z := float64(logits.F32[i*k+r.Column])
		r.labels = append(r.labels, float64(y))
		r.scores = append(r.scores, z)
		// log(1+e^z) - y·z, written to stay finite for large |z|.
		r.loss += math.Max(z, 0) - z*float64(y) + math.Log1p(math.Exp(-math.Abs(z)))
	}
}

// Result returns <split>_loss and <split>_rocauc (NaN before any example).
func (r *BinaryROC) Result() map[string]float64 {
	if len(r.labels) == 0 {
		return map[string]float64{r.Split + "_loss": math.NaN(), r.Split + "_rocauc": math.NaN()}
	}
	auc, err := ROCAUC(r.labels, r.scores)
	if err != nil {
		slog.Warn("ROC-AUC undefined; reporting 0 as FOB does", "split", r.Split, "examples", len(r.labels), "err", err)
		auc = 0
	}
	return map[string]float64{r.Split + "_loss": r.loss / float64(len(r.labels)), r.Split + "_rocauc": auc}
}
