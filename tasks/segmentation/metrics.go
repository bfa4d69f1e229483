package segmentation

import (
	"math"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/graph"
)

// bilinear is F.interpolate(mode="bilinear", align_corners=False)'s [out, in] matrix of one
// axis (onnx.ResizeMatrix, the same weights the ONNX Resize lowering uses).
func bilinear(in, out int) []float32 {
	m, err := onnx.ResizeMatrix(onnx.ResizeAxis{In: in, Out: out, Mode: onnx.ResizeLinear, Coord: "pytorch_half_pixel"})
	if err != nil {
		panic(err) // sizes come from validated shapes
	}
	return m
}

// transposed returns the [in, out] transpose of an [out, in] matrix as a graph constant.
func transposed(g *graph.Graph, m []float32, in, out int) *graph.Node {
	t := make([]float32, len(m))
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			t[i*out+o] = m[o*in+i]
		}
	}
	return graph.Reshape(graph.Const(g, t), in, out)
}

// UpsampleBilinear resizes logits [B, C, h, w] to [B, C, H, W] in the graph, as
// F.interpolate(mode="bilinear", align_corners=False): one constant matrix product per axis.
func UpsampleBilinear(x *graph.Node, H, W int) *graph.Node {
	d := x.Shape().Dimensions
	h, w := d[2], d[3]
	g := x.Graph()
	if w != W {
		x = graph.MatMul(x, transposed(g, bilinear(w, W), w, W))
	}
	if h != H {
		x = graph.Transpose(graph.MatMul(graph.Transpose(x, 2, 3), transposed(g, bilinear(h, H), h, H)), 2, 3)
	}
	return x
}

// UpsampledCrossEntropy is HF's SegFormer loss: logits [B, C, h, w] upsampled to the labels'
// [B, H, W] size, cross-entropy averaged over the pixels whose label is not 255.
func UpsampledCrossEntropy(logits, labels *graph.Node) *graph.Node {
	ld := labels.Shape().Dimensions
	b, H, W := ld[0], ld[1], ld[2]
	c := logits.Shape().Dimensions[1]
	up := UpsampleBilinear(logits, H, W)
	flat := graph.Reshape(graph.TransposeAllAxes(up, 0, 2, 3, 1), b*H*W, c)
	lab := graph.Reshape(labels, b*H*W)
	if lab.DType() != dtypes.Int64 {
		lab = graph.ConvertDType(lab, dtypes.Int64)
	}
	valid := graph.NotEqual(lab, graph.Scalar(lab.Graph(), dtypes.Int64, Ignore))
	safe := graph.Where(valid, lab, graph.ZerosLike(lab))
	return tasks.SoftmaxCrossEntropy(flat, safe, valid)
}

// axisTaps are the (at most two) source indices and weights of each output position of a
// bilinear resize, for the host-side upsampling.
type axisTaps struct {
	i0, i1 []int
	w0, w1 []float32
}

func taps(in, out int) axisTaps {
	m := bilinear(in, out)
	t := axisTaps{i0: make([]int, out), i1: make([]int, out), w0: make([]float32, out), w1: make([]float32, out)}
	for o := 0; o < out; o++ {
		first := true
		for i, v := range m[o*in : (o+1)*in] {
			if v == 0 {
				continue
			}
			if first {
				t.i0[o], t.w0[o], t.i1[o], first = i, v, i, false
			} else {
				t.i1[o], t.w1[o] = i, v
			}
		}
	}
	return t
}

// upsampleHost resizes one image's logits [C, h, w] to [C, H, W] on the host, with the same
// weights as UpsampleBilinear: tx = taps(w, W) and ty = taps(h, H), computed once per batch.
func upsampleHost(x []float32, c, h, w, H, W int, tx, ty axisTaps) []float32 {
	tmp := make([]float32, c*h*W)
	for k := 0; k < c*h; k++ {
		src, dst := x[k*w:(k+1)*w], tmp[k*W:(k+1)*W]
		for o := 0; o < W; o++ {
			dst[o] = tx.w0[o]*src[tx.i0[o]] + tx.w1[o]*src[tx.i1[o]]
		}
	}
	out := make([]float32, c*H*W)
	for ch := 0; ch < c; ch++ {
		plane := tmp[ch*h*W : (ch+1)*h*W]
		for o := 0; o < H; o++ {
			r0, r1 := plane[ty.i0[o]*W:(ty.i0[o]+1)*W], plane[ty.i1[o]*W:(ty.i1[o]+1)*W]
			dst := out[ch*H*W+o*W : ch*H*W+(o+1)*W]
			for x := range dst {
				dst[x] = ty.w0[o]*r0[x] + ty.w1[o]*r1[x]
			}
		}
	}
	return out
}

// IoU accumulates mmseg's intersect_and_union over a split: per class, the pixels where
// prediction and label agree (intersect), predicted, and labelled, ignoring label 255.
type IoU struct {
	Intersect, Pred, Label []float64
}

// NewIoU returns an empty accumulator for classes classes.
func NewIoU(classes int) *IoU {
	return &IoU{Intersect: make([]float64, classes), Pred: make([]float64, classes), Label: make([]float64, classes)}
}

// Add counts one image's predictions against its labels (same length). Labels other than
// 0..classes-1 (255 and any other out-of-range value) are skipped, as mmseg masks the ignore
// index and its histograms drop values outside [0, classes-1].
func (u *IoU) Add(pred []int, label []int64) {
	n := int64(len(u.Label))
	for i, l := range label {
		if l == Ignore {
			continue
		}
		p := int64(pred[i])
		if l >= 0 && l < n {
			u.Label[l]++
			if p == l {
				u.Intersect[l]++
			}
		}
		if p >= 0 && p < n {
			u.Pred[p]++
		}
	}
}

// Scores returns aAcc, mIoU and mAcc in percent rounded to 2 decimals, as mmseg's IoUMetric:
// aAcc = Σ intersect / Σ label; IoU_c = intersect_c / (pred_c + label_c − intersect_c) and
// Acc_c = intersect_c / label_c, averaged over the classes where they are not NaN (0/0).
func (u *IoU) Scores() (aAcc, mIoU, mAcc float64) {
	var inter, lab float64
	var iouSum, accSum float64
	var iouN, accN int
	for c := range u.Label {
		inter += u.Intersect[c]
		lab += u.Label[c]
		if union := u.Pred[c] + u.Label[c] - u.Intersect[c]; union > 0 {
			iouSum += u.Intersect[c] / union
			iouN++
		}
		if u.Label[c] > 0 {
			accSum += u.Intersect[c] / u.Label[c]
			accN++
		}
	}
	round := func(v float64) float64 { return math.RoundToEven(v*100*100) / 100 }
	return round(inter / lab), round(iouSum / float64(iouN)), round(accSum / float64(accN))
}

// IoUMetrics is the task's tasks.Metrics: logits upsampled to the label size, argmax, IoU;
// and the batch-size-weighted mean of each batch's loss. Skip makes it report nothing (train).
type IoUMetrics struct {
	Split   string
	Classes int
	Skip    bool
	iou     *IoU
	lossSum float64
	n       int
}

// Add scores one batch: outputs["logits"] [B, C, h, w] against targets["labels"] [B, H, W].
func (m *IoUMetrics) Add(outputs map[string]tensor.Tensor, b tasks.Batch) {
	if m.Skip {
		return
	}
	if m.iou == nil {
		m.iou = NewIoU(m.Classes)
	}
	logits, labels := outputs[OutputName], b.Targets[LabelsName]
	bs, c, h, w := logits.Shape[0], logits.Shape[1], logits.Shape[2], logits.Shape[3]
	H, W := labels.Shape[1], labels.Shape[2]
	var batchLoss float64
	var valid int
	tx, ty := taps(w, W), taps(h, H)
	pred := make([]int, H*W)
	for i := 0; i < bs; i++ {
		up := upsampleHost(logits.F32[i*c*h*w:(i+1)*c*h*w], c, h, w, H, W, tx, ty)
		lab := labels.I64[i*H*W : (i+1)*H*W]
		for p := 0; p < H*W; p++ {
			best, arg := float32(math.Inf(-1)), 0
			for k := 0; k < c; k++ {
				if v := up[k*H*W+p]; v > best {
					best, arg = v, k
				}
			}
			pred[p] = arg
			if l := lab[p]; l != Ignore && l >= 0 && int(l) < c {
				var z float64
				for k := 0; k < c; k++ {
					z += math.Exp(float64(up[k*H*W+p] - best))
				}
				batchLoss += math.Log(z) - float64(up[int(l)*H*W+p]-best)
				valid++
			}
		}
		m.iou.Add(pred, lab)
	}
	if valid > 0 {
		m.lossSum += batchLoss / float64(valid) * float64(bs)
		m.n += bs
	}
}

// Result returns <split>_loss, _aAcc, _mIoU and _mAcc (NaN before any example; empty for Skip).
func (m *IoUMetrics) Result() map[string]float64 {
	if m.Skip {
		return map[string]float64{}
	}
	p := m.Split + "_"
	if m.iou == nil {
		nan := math.NaN()
		return map[string]float64{p + "loss": nan, p + "aAcc": nan, p + "mIoU": nan, p + "mAcc": nan}
	}
	a, iou, acc := m.iou.Scores()
	loss := math.NaN()
	if m.n > 0 {
		loss = m.lossSum / float64(m.n)
	}
	return map[string]float64{p + "loss": loss, p + "aAcc": a, p + "mIoU": iou, p + "mAcc": acc}
}
