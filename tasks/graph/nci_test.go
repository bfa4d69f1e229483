package graph

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/tasks"
	"github.com/fob-go/fob/tasks/data"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// TestNCIConversion converts the first 300 NCI molecules of rdkit-data into OGB's layout with
// testdata/make_ogb_from_rdkit.py and reads them with the task's data module: OGB's
// vocabularies hold, the scaffold split covers every molecule once, the first atom (the methyl
// carbon of 2-methyl-1,4-benzoquinone, CC1=CC(=O)C=CC1=O) has OGB's features, and one train
// step runs on a real batch.
func TestNCIConversion(t *testing.T) {
	if _, err := os.Stat("/usr/share/RDKit/Data/NCI/first_5k.tpsa.csv"); err != nil {
		t.Skip("rdkit-data is not installed (apt-get install rdkit-data python3-rdkit)")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import rdkit").Run(); err != nil {
		t.Skip("python3-rdkit is not installed (apt-get install python3-rdkit)")
	}
	dir := t.TempDir()
	out, err := exec.Command("/usr/bin/python3", "testdata/make_ogb_from_rdkit.py", dir, "--limit", "300").CombinedOutput()
	if err != nil {
		t.Fatalf("converter: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "300 molecules") {
		t.Fatalf("converter output: %s", out)
	}
	set, err := data.ReadOGB(filepath.Join(dir, "graph"), "hiv", "scaffold", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.CheckVocab(models.OGBAtomFeatureDims, models.OGBBondFeatureDims); err != nil {
		t.Fatal(err)
	}
	if got, want := set.NodeFeat[:9], []int64{5, 0, 4, 5, 3, 0, 2, 0, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("first atom's OGB features %v, want %v (carbon, degree 4, 3 H, sp3)", got, want)
	}
	seen := make([]int, set.NumGraphs())
	for _, s := range set.Splits {
		for _, g := range s {
			seen[g]++
		}
	}
	for g, n := range seen {
		if n != 1 {
			t.Fatalf("molecule %d is in %d splits", g, n)
		}
	}
	if n := len(set.Splits["train"]); n < 220 || n > 250 {
		t.Errorf("train split %d of 300, want about 80%%", n)
	}
	cfg := smallConfig(t)
	dm, err := Task{}.NewData(tasks.DataEnv{DataDir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dm.Setup(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	ds, _ := dm.Split("train")
	proto, err := Task{}.BuildModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	st, _, lrs, _ := traintest.Stepper(t, Task{}, proto, 1, config.Map{"name": "adamw_baseline",
		"learning_rate": 1e-3, "weight_decay": 0.0, "max_steps": 10, "max_epochs": 10})
	res, err := st.Step(ds.Batch([]int{0, 1, 2, 3, 4, 5, 6, 7}), 1, lrs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Loss <= 0 || res.Loss > 5 {
		t.Errorf("first loss %v", res.Loss)
	}
}
