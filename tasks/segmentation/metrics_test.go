package segmentation_test

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/runtime"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/segmentation"
	"github.com/fob-go/fob/train/optim"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestLossAndMetricsMatchReferences checks, against testdata/seg_ref.py: the in-graph loss
// (UpsampledCrossEntropy) and its gradient against PyTorch's F.interpolate + cross_entropy
// with ignore_index 255; and the host metrics (upsampling, argmax, IoU, loss) against a numpy
// transcription of mmseg's IoUMetric, on labels with ignore pixels and an absent class.
func TestLossAndMetricsMatchReferences(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import torch, numpy").CombinedOutput(); err != nil {
		t.Fatalf("the reference needs /usr/bin/python3 with torch and numpy (apt-get install python3-torch): %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "ref.json")
	if out, err := exec.Command("/usr/bin/python3", "testdata/seg_ref.py", path).CombinedOutput(); err != nil {
		t.Fatalf("seg_ref.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		LogitsShape []int              `json:"logits_shape"`
		Logits      []float32          `json:"logits"`
		LabelsShape []int              `json:"labels_shape"`
		Labels      []int64            `json:"labels"`
		Loss        float64            `json:"loss"`
		Grad        []float32          `json:"grad"`
		Metrics     map[string]float64 `json:"metrics"`
		NaNIoU      int                `json:"nan_iou_classes"`
		NaNAcc      int                `json:"nan_acc_classes"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if ref.NaNAcc == 0 {
		t.Fatal("the fixture should have a class without labels")
	}
	backend, err := runtime.NewBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := graph.NewExec(backend, func(logits, labels *graph.Node) (*graph.Node, *graph.Node) {
		loss := segmentation.UpsampledCrossEntropy(logits, labels)
		return loss, graph.Gradient(loss, logits)[0]
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ex.Exec(tensors.FromFlatDataAndDimensions(ref.Logits, ref.LogitsShape...),
		tensors.FromFlatDataAndDimensions(ref.Labels, ref.LabelsShape...))
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(tensors.ToScalar[float32](out[0])); math.Abs(got-ref.Loss) > 1e-5 {
		t.Errorf("GoMLX loss %v, PyTorch %v", got, ref.Loss)
	}
	grad := tensors.MustCopyFlatData[float32](out[1])
	var worst float64
	for i := range grad {
		worst = math.Max(worst, math.Abs(float64(grad[i]-ref.Grad[i])))
	}
	if worst > 1e-6 {
		t.Errorf("GoMLX loss gradient differs from PyTorch's by %.3g", worst)
	}

	m := segmentation.Task{Size: 13}.NewMetrics("val")
	b := tasks.Batch{Targets: map[string]tensor.Tensor{"labels": tensor.I64s(ref.Labels, ref.LabelsShape...)}, Size: ref.LabelsShape[0]}
	m.Add(map[string]tensor.Tensor{"logits": tensor.F32s(ref.Logits, ref.LogitsShape...)}, b)
	res := m.Result()
	for k, want := range ref.Metrics {
		if got := res["val_"+k]; math.Abs(got-want) > 1e-9 {
			t.Errorf("val_%s = %v, mmseg %v", k, got, want)
		}
	}
	if got := res["val_loss"]; math.Abs(got-ref.Loss) > 1e-5 {
		t.Errorf("val_loss %v, PyTorch %v", got, ref.Loss)
	}
	t.Logf("metrics %v (mmseg %v), loss %.6f", res, ref.Metrics, ref.Loss)
}

// TestIoUCases: hand-computed mmseg values: ignore pixels skipped, NaN classes left out of the
// means, percent with two decimals.
func TestIoUCases(t *testing.T) {
	u := segmentation.NewIoU(4)
	// labels: class 0 ×3, class 1 ×1, ignore ×2; predictions: 0,0,1 for the 0s, 1 for the 1,
	// 3 under an ignore pixel (not counted); class 2 appears nowhere (NaN), class 3 nowhere
	// counted (NaN).
	u.Add([]int{0, 0, 1, 1, 3, 2}, []int64{0, 0, 0, 1, 255, 255})
	a, iou, acc := u.Scores()
	// aAcc 3/4; IoU0 = 2/3, IoU1 = 1/2 → 58.33; Acc0 = 2/3, Acc1 = 1 → 83.33.
	if a != 75 || iou != 58.33 || acc != 83.33 {
		t.Errorf("aAcc %v mIoU %v mAcc %v; want 75, 58.33, 83.33", a, iou, acc)
	}
	empty := segmentation.Task{Size: 32}.NewMetrics("test").Result()
	if !math.IsNaN(empty["test_mIoU"]) {
		t.Errorf("metrics before any batch: %v, want NaN", empty)
	}
	if len(segmentation.Task{Size: 32}.NewMetrics("train").Result()) != 0 {
		t.Error("train metrics should be empty (train_loss comes from the loss)")
	}
}

// TestParamGroups: FOB's four groups: backbone (lr ×0.1) and decode head, each with decay and
// no-decay (biases, norms) parameters.
func TestParamGroups(t *testing.T) {
	p, err := segmentation.Task{Size: 64}.BuildModel(taskConfig(t, 64), 1)
	if err != nil {
		t.Fatal(err)
	}
	var infos []optim.ParamInfo
	for _, init := range p.Graph.Initializer {
		if strings.HasSuffix(init.GetName(), "running_mean") || strings.HasSuffix(init.GetName(), "running_var") {
			continue
		}
		shape := make([]int, len(init.GetDims()))
		for i, d := range init.GetDims() {
			shape[i] = int(d)
		}
		infos = append(infos, optim.ParamInfo{Name: init.GetName(), Shape: shape})
	}
	groups, err := segmentation.ParamGroups(infos)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{"backbone_decay": {0.1, 1}, "backbone_no_decay": {0.1, 0}, "decoder_decay": {1, 1}, "decoder_no_decay": {1, 0}}
	if len(groups) != 4 {
		t.Fatalf("%d groups, want 4", len(groups))
	}
	member := map[string]string{}
	for _, g := range groups {
		w, ok := want[g.Name]
		if !ok || g.LRMultiplier != w[0] || g.WDMultiplier != w[1] {
			t.Errorf("group %s lr×%v wd×%v; want %v", g.Name, g.LRMultiplier, g.WDMultiplier, w)
		}
		for _, n := range g.Params {
			member[n] = g.Name
		}
	}
	for name, g := range map[string]string{
		"segformer.encoder.patch_embeddings.0.proj.weight":     "backbone_decay",
		"segformer.encoder.block.0.0.layer_norm_1.weight":      "backbone_no_decay",
		"segformer.encoder.block.3.1.mlp.dwconv.dwconv.bias":   "backbone_no_decay",
		"segformer.encoder.block.1.0.attention.self.sr.weight": "backbone_decay",
		"decode_head.linear_fuse.weight":                       "decoder_decay",
		"decode_head.batch_norm.weight":                        "decoder_no_decay",
		"decode_head.classifier.bias":                          "decoder_no_decay",
		"decode_head.linear_c.2.proj.weight":                   "decoder_decay",
	} {
		if member[name] != g {
			t.Errorf("%s in %q, want %q", name, member[name], g)
		}
	}
	if len(member) != len(infos) {
		t.Errorf("%d parameters grouped, want %d", len(member), len(infos))
	}
}
