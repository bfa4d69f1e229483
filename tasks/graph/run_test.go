package graph_test

import (
	"context"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fob-go/fob/eval"
	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/runtime/ort"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/tasks/graph"
	"github.com/fob-go/fob/train"
	"github.com/fob-go/fob/train/experiment"
	_ "github.com/fob-go/fob/train/optim/all"
	"github.com/fob-go/fob/train/traintest"
)

// learnableSet draws n small molecules whose label is whether most atoms have an element
// feature below 4: a fraction that mean pooling of the atom embeddings exposes linearly.
func learnableSet(n int) *data.OGBGraphs {
	r := rand.New(rand.NewPCG(11, 2))
	s := &data.OGBGraphs{NodeFeatDim: 9, EdgeFeatDim: 3, NodeStart: []int{0}, EdgeStart: []int{0}, Splits: map[string][]int{}}
	for g := 0; g < n; g++ {
		atoms := 3 + r.IntN(6)
		var low int
		for i := 0; i < atoms; i++ {
			for c, d := range models.OGBAtomFeatureDims {
				v := int64(r.IntN(min(d, 8)))
				if c == 0 && v < 4 {
					low++
				}
				s.NodeFeat = append(s.NodeFeat, v)
			}
		}
		for i := 0; i+1 < atoms; i++ {
			s.Src = append(s.Src, int64(i), int64(i+1))
			s.Dst = append(s.Dst, int64(i+1), int64(i))
			f := []int64{int64(r.IntN(5)), 0, int64(r.IntN(2))}
			s.EdgeFeat = append(append(s.EdgeFeat, f...), f...)
		}
		s.NodeStart = append(s.NodeStart, s.NodeStart[g]+atoms)
		s.EdgeStart = append(s.EdgeStart, s.EdgeStart[g]+2*(atoms-1))
		label := 0.0
		if 2*low > atoms {
			label = 1
		}
		s.Labels = append(s.Labels, label)
		split := []string{"train", "train", "train", "valid", "test"}[g%5]
		s.Splits[split] = append(s.Splits[split], g)
	}
	return s
}

// TestShortRun trains a small GIN through fob's run loop on a set in OGB's zip layout served
// from the mirror, and checks the logged metrics, the onnxruntime-scored test metrics, and that
// onnxruntime's val_rocauc and val_loss of the exported last checkpoint equal what GoMLX logged
// for the last epoch.
func TestShortRun(t *testing.T) {
	if err := ort.Init(); err != nil {
		t.Skipf("onnxruntime unavailable: %v", err)
	}
	dir := t.TempDir()
	mirror := filepath.Join(dir, "mirror")
	os.MkdirAll(filepath.Join(mirror, "graph"), 0o755)
	if err := data.WriteOGBZip(filepath.Join(mirror, "graph", "hiv.zip"), "hiv", "scaffold", learnableSet(400), true); err != nil {
		t.Fatal(err)
	}
	exp, err := experiment.ParseBytes([]byte("{}"), "test", []string{"task.name=graph", "optimizer.name=adamw_baseline", "optimizer.learning_rate=0.005",
		"task.max_epochs=3", "task.batch_size=32", "task.model.hidden_channels=32", "task.model.num_layers=2",
		"engine.output_dir=" + dir, "engine.silent=true", "engine.data_dir=" + filepath.Join(dir, "data"),
		"engine.data_mirror=" + mirror}, experiment.RegistryCatalog())
	if err != nil {
		t.Fatal(err)
	}
	run := exp.Runs[0]
	if _, err := train.Run(context.Background(), run.Config, run.Dir, train.Options{Progress: discard{}}); err != nil {
		t.Fatal(err)
	}
	res := traintest.BestResults(t, run.Dir)
	traintest.CheckCheckpoints(t, run.Dir)
	auc, loss := res["test_rocauc"], res["test_loss"]
	if math.IsNaN(loss) || auc < 0.6 || auc > 1 {
		t.Errorf("test_rocauc %v, test_loss %v; want a finite loss and a ROC-AUC clearly above chance", auc, loss)
	}
	t.Logf("after 3 epochs: %v", res)

	// The last epoch's validation metrics (GoMLX) against onnxruntime on last.onnx.
	f, err := os.Open(filepath.Join(run.Dir, "csv_logs", "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	logged := map[string]float64{}
	for _, row := range rows[1:] {
		for _, k := range []string{"val_rocauc", "val_loss"} {
			if v, err := strconv.ParseFloat(row[col[k]], 64); err == nil {
				logged[k] = v
			}
		}
	}
	if len(logged) != 2 {
		t.Fatalf("metrics.csv lacks val_rocauc or val_loss: %v", rows[0])
	}
	task, _ := tasks.Get("graph")
	dm, err := task.NewData(tasks.DataEnv{DataDir: filepath.Join(dir, "data")}, run.Config["task"].(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ortVal, err := eval.ScoreFile(context.Background(), eval.Request{Task: graph.Task{}, Data: dm, Split: "val",
		Path: filepath.Join(run.Dir, "checkpoints", "last.onnx"), BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range logged {
		if math.Abs(ortVal[k]-v) > 1e-4 {
			t.Errorf("%s: GoMLX logged %v, onnxruntime on last.onnx %v", k, v, ortVal[k])
		}
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
