package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// randomSet draws n molecule-like graphs (2 to 12 atoms, a chain plus a ring bond, both
// directions listed as OGB's inverse edges give them) with features inside OGB's vocabularies
// and alternating labels, split 60/20/20.
func randomSet(n int, seed uint64) *data.OGBGraphs {
	r := rand.New(rand.NewPCG(seed, 1))
	s := &data.OGBGraphs{NodeFeatDim: 9, EdgeFeatDim: 3, NodeStart: []int{0}, EdgeStart: []int{0}, Splits: map[string][]int{}}
	for g := 0; g < n; g++ {
		atoms := 2 + r.IntN(11)
		for i := 0; i < atoms; i++ {
			for _, d := range models.OGBAtomFeatureDims {
				s.NodeFeat = append(s.NodeFeat, int64(r.IntN(d)))
			}
		}
		bonds := [][2]int64{}
		for i := 0; i+1 < atoms; i++ {
			bonds = append(bonds, [2]int64{int64(i), int64(i + 1)})
		}
		if atoms > 3 {
			bonds = append(bonds, [2]int64{0, int64(atoms - 1)})
		}
		for _, b := range bonds {
			f := []int64{}
			for _, d := range models.OGBBondFeatureDims {
				f = append(f, int64(r.IntN(d)))
			}
			s.Src = append(s.Src, b[0], b[1])
			s.Dst = append(s.Dst, b[1], b[0])
			s.EdgeFeat = append(append(s.EdgeFeat, f...), f...)
		}
		s.NodeStart = append(s.NodeStart, s.NodeStart[g]+atoms)
		s.EdgeStart = append(s.EdgeStart, s.EdgeStart[g]+2*len(bonds))
		s.Labels = append(s.Labels, float64(g%2))
		split := "train"
		if g%5 == 3 {
			split = "valid"
		} else if g%5 == 4 {
			split = "test"
		}
		s.Splits[split] = append(s.Splits[split], g)
	}
	return s
}

func TestBucket(t *testing.T) {
	for _, c := range []struct{ n, extra, want int }{
		{0, 0, 16}, {14, 2, 16}, {15, 2, 20}, {16, 0, 16}, {17, 0, 20}, {21, 0, 28}, {2100, 2, 2272}, {3300, 2, 3552},
	} {
		if got := Bucket(c.n, c.extra); got != c.want {
			t.Errorf("Bucket(%d, %d) = %d, want %d", c.n, c.extra, got, c.want)
		}
	}
	// Consecutive buckets are at most 1.25x (+4) apart.
	for b := 16; b < 100000; {
		next := Bucket(b+1, 0)
		if next > b*5/4+4 {
			t.Fatalf("bucket after %d is %d", b, next)
		}
		b = next
	}
}

// TestBatchLayout checks a padded batch by hand: node offsets in edge_index, the batch vector,
// the masks, the padding pattern and edges, labels and pooling weights.
func TestBatchLayout(t *testing.T) {
	s := randomSet(5, 3)
	bt := &Batcher{Set: s, Graphs: []int{0, 1, 2, 3, 4}, Pooling: models.GINPoolMean}
	b := bt.Batch([]int{3, 1, 4})
	nodes := 0
	for _, g := range []int{3, 1, 4} {
		nodes += s.NodeStart[g+1] - s.NodeStart[g]
	}
	x := b.Inputs[models.GINNodeFeatures]
	N := x.Shape[0]
	if N != Bucket(nodes, 2) || b.Inputs[models.GINGraphScale].Shape[0] != 4 || b.Size != 3 {
		t.Fatalf("shapes: %d nodes for %d real, %v graphs, size %d", N, nodes, b.Inputs[models.GINGraphScale].Shape, b.Size)
	}
	mask, pad := b.Inputs[models.GINNodeMask].F32, b.Inputs[models.GINNodePad].F32
	var padSum, padSq float64
	for i := 0; i < N; i++ {
		if (i < nodes) != (mask[i] == 1) {
			t.Fatalf("node_mask[%d] = %v", i, mask[i])
		}
		padSum += float64(pad[i])
		padSq += float64(pad[i]) * float64(pad[i])
	}
	if math.Abs(padSum) > 1e-6 || math.Abs(padSq-float64(N-nodes)) > 1e-5 {
		t.Errorf("node_pad sums to %g with squares %g; want 0 and %d", padSum, padSq, N-nodes)
	}
	ei := b.Inputs[models.GINEdgeIndex]
	E := ei.Shape[1]
	batch := b.Inputs[models.GINBatch].I64
	real := 0
	for e := 0; e < E; e++ {
		src, dst := ei.I64[e], ei.I64[E+e]
		if int(src) < nodes {
			real++
			if batch[src] != batch[dst] || int(dst) >= nodes {
				t.Fatalf("edge %d joins %d and %d of different graphs", e, src, dst)
			}
		} else if src != int64(N-1) || dst != int64(N-1) {
			t.Fatalf("padding edge %d is %d→%d, want the last (padding) node", e, src, dst)
		}
	}
	if want := s.EdgeStart[4] - s.EdgeStart[3] + s.EdgeStart[2] - s.EdgeStart[1] + s.EdgeStart[5] - s.EdgeStart[4]; real != want {
		t.Errorf("%d real edges, want %d", real, want)
	}
	scale, gm, y := b.Inputs[models.GINGraphScale].F32, b.Targets[TargetMask].F32, b.Targets[TargetLabel].F32
	for k, g := range []int{3, 1, 4} {
		if n := s.NodeStart[g+1] - s.NodeStart[g]; scale[k] != 1/float32(n) || gm[k] != 1 || y[k] != float32(s.Labels[g]) {
			t.Errorf("graph %d: scale %v mask %v label %v", k, scale[k], gm[k], y[k])
		}
	}
	if scale[3] != 0 || gm[3] != 0 {
		t.Errorf("padding graph: scale %v mask %v", scale[3], gm[3])
	}
	if err := (Task{}).Signature().CheckTensors(b.Inputs, map[string]tensor.Tensor{models.GINOutput: tensor.F32s(make([]float32, 8), 4, 2)}); err != nil {
		t.Error(err)
	}
}

// smallConfig is the default task section with a small, dropout-free GIN.
func smallConfig(t testing.TB) config.Map {
	cfg := traintest.TaskConfig(t, Task{})
	config.Set(cfg, "model.hidden_channels", 24)
	config.Set(cfg, "model.num_layers", 3)
	config.Set(cfg, "model.dropout", 0.0)
	return cfg
}

// TestPaddingInvariance: the same 40 graphs give the same logits (onnxruntime, running
// statistics) and the same training loss (GoMLX, batch statistics) whether batched exactly or
// padded to buckets, whole or in pieces.
func TestPaddingInvariance(t *testing.T) {
	s := randomSet(40, 7)
	all := make([]int, 40)
	for i := range all {
		all[i] = i
	}
	proto, err := Task{}.BuildModel(smallConfig(t), 5)
	if err != nil {
		t.Fatal(err)
	}
	sess := traintest.ORTSession(t, proto, 2)
	logits := func(b tasks.Batch) []float32 {
		out, err := sess.Run(b.Inputs)
		if err != nil {
			t.Fatal(err)
		}
		return out[models.GINOutput].F32
	}
	exact := &Batcher{Set: s, Graphs: all, Pooling: models.GINPoolMean, Exact: true}
	padded := &Batcher{Set: s, Graphs: all, Pooling: models.GINPoolMean}
	want := logits(exact.Batch(all))
	for _, size := range []int{1, 7, 16, 40} {
		var got []float32
		for i := 0; i < 40; i += size {
			idx := all[i:min(i+size, 40)]
			b := padded.Batch(idx)
			got = append(got, logits(b)[:2*len(idx)]...)
		}
		if d := maxDiff(t, "padded vs exact", got, want); d > 1e-5 {
			t.Errorf("batches of %d: logits differ from the exact batch by %g", size, d)
		}
	}
	st, _, lrs, _ := traintest.Stepper(t, Task{}, proto, 1, config.Map{"name": "sgd_baseline", "learning_rate": 0.0,
		"momentum": 0.0, "weight_decay": 0.0, "max_steps": 10, "max_epochs": 10})
	idx := all[:29]
	r1, err := st.Step(exact.Batch(idx), 1, lrs)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := st.Step(padded.Batch(idx), 2, lrs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r1.Loss-r2.Loss) > 1e-5 || r1.Loss == 0 {
		t.Errorf("training loss %v exact, %v padded", r1.Loss, r2.Loss)
	}
	if d := maxDiff(t, "train logits", r2.Outputs[models.GINOutput].F32, r1.Outputs[models.GINOutput].F32); d > 1e-5 {
		t.Errorf("training-mode logits differ by %g with padding", d)
	}
}

// TestDataFromMirror: Prepare copies OGB's zip from the mirror's graph/ folder, Setup reads it
// straight from the zip, and the splits have OGB's names mapped to fob's.
func TestDataFromMirror(t *testing.T) {
	mirror := t.TempDir()
	os.MkdirAll(filepath.Join(mirror, "graph"), 0o755)
	s := randomSet(30, 9)
	if err := data.WriteOGBZip(filepath.Join(mirror, "graph", "hiv.zip"), "hiv", "scaffold", s, true); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dataDir, Mirror: mirror}, traintest.TaskConfig(t, Task{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "graph", "hiv.zip")); err != nil {
		t.Errorf("the zip was not copied into the data folder: %v", err)
	}
	for name, ogb := range map[string]string{"train": "train", "val": "valid", "test": "test"} {
		ds, err := dm.Split(name)
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != len(s.Splits[ogb]) {
			t.Errorf("%s: %d graphs, want %d", name, ds.Len(), len(s.Splits[ogb]))
		}
	}
	if _, err := dm.Split("valid"); err == nil || !strings.Contains(err.Error(), "have train, val, test") {
		t.Errorf("split valid: %v", err)
	}
}

// TestDataMissing: without the dataset and without a network the error says what to put where.
func TestDataMissing(t *testing.T) {
	dataDir := t.TempDir()
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dataDir, Mirror: t.TempDir()}, traintest.TaskConfig(t, Task{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = dm.Prepare(ctx)
	if err == nil {
		t.Skip("hiv.zip was downloaded: this machine has a network")
	}
	for _, want := range []string{"put OGB's hiv.zip", "csv_mol_download/hiv.zip", filepath.Join(dataDir, "graph", "hiv", "raw", "num_node_list.csv.gz")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestModelConfigErrors: unsupported or malformed model settings fail with the key and the fix.
func TestModelConfigErrors(t *testing.T) {
	for _, c := range []struct {
		key  string
		val  any
		want string // "" = builds
	}{
		{"model.hidden_channels", 0, "task.model.hidden_channels = 0 is out of range"},
		{"model.num_layers", 0, "task.model.num_layers = 0 is out of range; valid values are 1 to 64"},
		{"model.dropout", 1.0, "task.model.dropout must be in [0, 1)"},
		{"model.graph_pooling", "set2set", `graph_pooling = "set2set" is an option of FOB that fob does not build`},
		{"model.graph_pooling", "avg", `"avg" is not a pooling`},
		{"model.jumping_knowledge", "concat", `jumping_knowledge = "concat"; valid: last, sum`},
		{"model.virtual_node", true, "virtual_node = true (OGB's GIN-virtual) is not built"},
		{"model.virtual_node", "no", "virtual_node"},
		{"model.graph_pooling", "Sum", ""},
		{"model.jumping_knowledge", "sum", ""},
	} {
		cfg := traintest.TaskConfig(t, Task{})
		config.Set(cfg, "model.hidden_channels", 8)
		config.Set(cfg, c.key, c.val)
		_, err := Task{}.BuildModel(cfg, 1)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s=%v: %v", c.key, c.val, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%v: error %v, want %q", c.key, c.val, err, c.want)
		}
		if _, err := (Task{}).NewData(tasks.DataEnv{DataDir: t.TempDir()}, cfg); err == nil {
			t.Errorf("%s=%v: NewData accepted it", c.key, c.val)
		}
	}
}

// TestDefaultModel: FOB's GIN has 1,885,807 parameters, PyTorch's count of
// testdata/gin_torch.py's GNN(num_tasks=2) (the OGB example with one task: 1,885,506), and its
// inputs and outputs are the task's signature.
func TestDefaultModel(t *testing.T) {
	m, err := Task{}.BuildModel(traintest.TaskConfig(t, Task{}), 1)
	if err != nil {
		t.Fatal(err)
	}
	var params int
	for name, tp := range onnx.Initializers(m) {
		if strings.HasSuffix(name, "running_mean") || strings.HasSuffix(name, "running_var") {
			continue
		}
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		params += v.Size()
	}
	if params != 1885807 {
		t.Errorf("%d parameters, PyTorch counts 1885807", params)
	}
	got, err := onnx.SignatureOf(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Task{}).Signature().Check(got); err != nil {
		t.Error(err)
	}
}
