package graph_tiny

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
)

// realMirror is $FOB_DATA_MIRROR when it holds the Cora files; tests that need them skip
// otherwise.
func realMirror(t *testing.T) string {
	t.Helper()
	m := os.Getenv("FOB_DATA_MIRROR")
	if m == "" {
		t.Skip("FOB_DATA_MIRROR is not set: the real Cora files are needed")
	}
	if _, err := os.Stat(filepath.Join(m, "cora", "ind.cora.graph")); err != nil {
		t.Skipf("FOB_DATA_MIRROR=%s lacks cora/ind.cora.graph", m)
	}
	return m
}

func defaults(t *testing.T) config.Map {
	t.Helper()
	m, err := config.ParseMap(defaultYAML, "default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return config.Sub(m, "task")
}

// TestRealData checks the loader on the real Planetoid files: 2,708 nodes, 10,556 directed
// edges (both directions of 5,278 links), row-normalized features, the public 140/500/1,000
// masks, and one whole-graph example per split.
func TestRealData(t *testing.T) {
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: t.TempDir(), Mirror: realMirror(t)}, defaults(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	d := dm.(*Data)
	x, ei := d.x, d.edges
	if x.Shape[0] != 2708 || x.Shape[1] != NumFeatures || ei.Shape[0] != 2 || ei.Shape[1] != 10556 {
		t.Fatalf("x %v, edge_index %v; want [2708 1433] and [2 10556]", x.Shape, ei.Shape)
	}
	edges := map[[2]int64]bool{}
	e := ei.Shape[1]
	for k := 0; k < e; k++ {
		s, t := ei.I64[k], ei.I64[e+k]
		edges[[2]int64{s, t}] = true
	}
	if len(edges) != e {
		t.Errorf("edge_index holds %d distinct edges in %d columns; Cora has no duplicates", len(edges), e)
	}
	for k := range edges {
		if !edges[[2]int64{k[1], k[0]}] || k[0] == k[1] || k[0] < 0 || k[0] >= 2708 || k[1] < 0 || k[1] >= 2708 {
			t.Fatalf("edge %v: Cora's edges join nodes 0..2707, come in both directions and without self loops", k)
		}
	}
	for i := 0; i < 2708; i++ {
		var s float64
		for _, v := range x.F32[i*NumFeatures : (i+1)*NumFeatures] {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("feature row %d sums to %g; NormalizeFeatures makes every (non-empty) Cora row sum to 1", i, s)
		}
	}
	for split, want := range map[string]int{"train": 140, "val": 500, "test": 1000} {
		s, err := dm.Split(split)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 1 {
			t.Errorf("%s: Len %d, want 1 (the whole graph)", split, s.Len())
		}
		b := s.Batch([]int{0})
		if got := b.Inputs["edge_index"]; got.I64 == nil || fmt.Sprint(got.Shape) != "[2 10556]" {
			t.Errorf("%s: batch input edge_index %v, want int64 [2 10556]", split, got.Shape)
		}
		var n float32
		for _, m := range b.Targets["mask"].F32 {
			n += m
		}
		if int(n) != want || b.Size != want || len(b.Targets["y"].I64) != 2708 {
			t.Errorf("%s: mask of %v nodes, batch size %d; want %d", split, n, b.Size, want)
		}
		for _, y := range b.Targets["y"].I64 {
			if y < 0 || y >= NumClasses {
				t.Fatalf("label %d outside the %d classes", y, NumClasses)
			}
		}
	}
	if _, err := dm.Split("predict"); err == nil || !strings.Contains(err.Error(), "have train, val, test") {
		t.Errorf("unknown split: err = %v", err)
	}
}

// TestCorruptFiles checks that a damaged file in the data folder is refused with its path and
// checksum, and that a config asking for another split says what is built.
func TestCorruptFiles(t *testing.T) {
	m := realMirror(t)
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(m, "cora", "ind.cora.graph"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "graph_tiny"), 0o755)
	bad := filepath.Join(dir, "graph_tiny", "ind.cora.graph")
	good[len(good)/2] ^= 0xff
	os.WriteFile(bad, good, 0o644)
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dir, Mirror: m}, defaults(t))
	if err != nil {
		t.Fatal(err)
	}
	err = dm.Setup(context.Background(), 1)
	var ce *data.ChecksumError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt graph file: err = %v, want a checksum error naming %s", err, bad)
	}

	cfg := defaults(t)
	config.Set(cfg, "dataset_split", "random")
	if _, err := (Task{}).NewData(tasks.DataEnv{DataDir: dir}, cfg); err == nil || !strings.Contains(err.Error(), "task.dataset_split=public") {
		t.Errorf("dataset_split random: err = %v", err)
	}
}

// TestModelConfigErrors checks the model settings' errors.
func TestModelConfigErrors(t *testing.T) {
	cases := []struct {
		key  string
		val  any
		want string
	}{
		{"model.hidden_channels", 0, "task.model.hidden_channels = 0 is out of range; valid values are 1 to 65536"},
		{"model.num_layers", 1, "task.model.num_layers = 1 is out of range; valid values are 2 to 64"},
		{"model.dropout", 1.0, "dropout must be in [0, 1)"},
		{"model.normalize", "yes", "model.normalize"},
	}
	for _, c := range cases {
		cfg := defaults(t)
		config.Set(cfg, c.key, c.val)
		if _, err := (Task{}).BuildModel(cfg, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s=%v: err = %v, want it to mention %q", c.key, c.val, err, c.want)
		}
	}
	cfg := defaults(t)
	config.Set(cfg, "model.num_layers", 3)
	m, err := Task{}.BuildModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Graph.Initializer) != 6 {
		t.Errorf("num_layers 3: %d initializers, want 3 convolutions × (weight, bias)", len(m.Graph.Initializer))
	}
}
