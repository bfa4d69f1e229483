package segmentation_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/tasks/segmentation"
	"github.com/fob-go/fob/train/config"
	"github.com/fob-go/fob/train/traintest"
)

// taskConfig is the task section of default.yaml with task.image_size = size.
func taskConfig(t testing.TB, size int) config.Map {
	cfg := traintest.TaskConfig(t, segmentation.Task{Size: 512})
	cfg["image_size"] = size
	return cfg
}

// writeSafetensors writes F32 tensors in the safetensors layout (header length, JSON, data).
func writeSafetensors(t testing.TB, path string, tensors map[string][]float32, shapes map[string][]int) {
	t.Helper()
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var body []byte
	for _, n := range names {
		start := len(body)
		for _, v := range tensors[n] {
			body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
		}
		header[n] = map[string]any{"dtype": "F32", "shape": shapes[n], "data_offsets": []int{start, len(body)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	if err := os.WriteFile(path, append(append(out, h...), body...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPretrainedWeights: an encoder checkpoint as nvidia/mit-b0 ships it (encoder tensors plus
// an image classifier the model lacks) replaces the encoder's initial values by name and keeps
// the new decode head; bad files are clear errors.
func TestPretrainedWeights(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "model.safetensors")
	w := make([]float32, 32*3*7*7)
	for i := range w {
		w[i] = float32(i%13) / 13
	}
	writeSafetensors(t, good, map[string][]float32{
		"segformer.encoder.patch_embeddings.0.proj.weight": w,
		"segformer.encoder.layer_norm.3.bias":              make([]float32, 256),
		"classifier.weight":                                make([]float32, 1000*256),
	}, map[string][]int{
		"segformer.encoder.patch_embeddings.0.proj.weight": {32, 3, 7, 7},
		"segformer.encoder.layer_norm.3.bias":              {256},
		"classifier.weight":                                {1000, 256},
	})
	cfg := taskConfig(t, 64)
	cfg["model"].(config.Map)["weights"] = good
	m, err := segmentation.Task{}.BuildModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := segmentation.Task{}.BuildModel(taskConfig(t, 64), 1)
	if err != nil {
		t.Fatal(err)
	}
	get := func(p any, name string) []float32 {
		tp := onnx.Initializers(m)[name]
		if p != nil {
			tp = onnx.Initializers(plain)[name]
		}
		v, err := onnx.TensorOf(tp)
		if err != nil {
			t.Fatal(err)
		}
		return v.F32
	}
	for i, v := range get(nil, "segformer.encoder.patch_embeddings.0.proj.weight") {
		if v != w[i] {
			t.Fatalf("patch embedding weight [%d] = %v, want the checkpoint's %v", i, v, w[i])
		}
	}
	a, b := get(nil, "decode_head.classifier.weight"), get(true, "decode_head.classifier.weight")
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the decode head changed; it must stay newly initialised")
		}
	}

	bad := filepath.Join(dir, "bad.safetensors")
	writeSafetensors(t, bad, map[string][]float32{"segformer.encoder.layer_norm.3.bias": make([]float32, 10)},
		map[string][]int{"segformer.encoder.layer_norm.3.bias": {10}})
	other := filepath.Join(dir, "other.safetensors")
	writeSafetensors(t, other, map[string][]float32{"fc.weight": make([]float32, 4)}, map[string][]int{"fc.weight": {2, 2}})
	for _, c := range []struct {
		edit func(config.Map)
		want string
	}{
		{func(c config.Map) { c["model"].(config.Map)["weights"] = bad }, "has shape [10]"},
		{func(c config.Map) { c["model"].(config.Map)["weights"] = other }, "shares no tensor names"},
		{func(c config.Map) { c["model"].(config.Map)["weights"] = filepath.Join(dir, "missing.safetensors") }, "task.model.weights"},
		{func(c config.Map) { c["model"].(config.Map)["use_pretrained_model"] = true }, "ADE20K-finetuned"},
		{func(c config.Map) { c["model"].(config.Map)["name"] = "nvidia/mit-b5" }, "only nvidia/mit-b0"},
		{func(c config.Map) { c["image_size"] = 16 }, "image_size"},
	} {
		cfg := taskConfig(t, 64)
		cfg["model"] = config.Sub(cfg, "model")
		c.edit(cfg)
		if _, err := (segmentation.Task{}).BuildModel(cfg, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}
