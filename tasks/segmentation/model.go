package segmentation

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/runtime/tensor"
	"github.com/fob-go/fob/tasks/data/safetensors"
	"github.com/fob-go/fob/train/config"
)

// BuildModel builds SegFormer-B0 (HF's nvidia/mit-b0 configuration, 150 classes) for
// task.image_size images, initialised as HF initialises a new model; with task.model.weights
// set, the tensors of that safetensors file replace the initial values of the parameters of
// the same name (nvidia/mit-b0's encoder: the decode head stays new, as in FOB).
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	size, err := imageSize(cfg)
	if err != nil {
		return nil, err
	}
	if name, err := config.String(cfg, "model.name"); err == nil && name != "nvidia/mit-b0" {
		return nil, fmt.Errorf("tasks/segmentation: task.model.name %q is not built in fob; only nvidia/mit-b0 (SegFormer-B0) is", name)
	}
	m, err := models.SegFormerB0(Classes, size).Build("segformer_b0", seed)
	if err != nil {
		return nil, fmt.Errorf("tasks/segmentation: %w", err)
	}
	finetuned := false
	if v, ok := config.Get(cfg, "model.use_pretrained_model"); ok && v != nil {
		if finetuned, err = config.Bool(cfg, "model.use_pretrained_model"); err != nil {
			return nil, fmt.Errorf("tasks/segmentation: task.%w", err)
		}
	}
	path := ""
	if !config.IsNull(cfg, "model.weights") {
		if path, err = config.String(cfg, "model.weights"); err != nil {
			return nil, fmt.Errorf("tasks/segmentation: task.%w", err)
		}
	}
	if path == "" {
		if finetuned {
			return nil, fmt.Errorf("tasks/segmentation: task.model.use_pretrained_model=true needs the ADE20K-finetuned weights: " +
				"set task.model.weights to nvidia/segformer-b0-finetuned-ade-512-512's model.safetensors")
		}
		slog.Info("segmentation: SegFormer-B0 from random initialisation (FOB starts from nvidia/mit-b0's ImageNet encoder: " +
			"set task.model.weights=<data_dir>/segmentation/mit-b0/model.safetensors to do the same)")
		return m, nil
	}
	loaded, err := LoadWeights(m, path)
	if err != nil {
		return nil, err
	}
	if finetuned && !slicesHasPrefix(loaded, "decode_head.") {
		return nil, fmt.Errorf("tasks/segmentation: %s has no decode_head.* tensors; task.model.use_pretrained_model=true needs the ADE20K-finetuned model", path)
	}
	slog.Info("segmentation: pretrained weights loaded", "file", path, "tensors", len(loaded))
	return m, nil
}

func slicesHasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// LoadWeights writes the tensors of the safetensors file path into m's initializers of the same
// name and returns their names. Tensors m does not have (an image classifier's "classifier.*")
// are skipped; a tensor whose shape differs from the initializer's is an error.
func LoadWeights(m *onnxpb.ModelProto, path string) ([]string, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tasks/segmentation: task.model.weights: %w", err)
	}
	inits := onnx.Initializers(m)
	values := map[string]tensor.Tensor{}
	var skipped []string
	for _, name := range f.Names() {
		t := f.Tensors[name]
		tp, ok := inits[name]
		if !ok {
			skipped = append(skipped, name)
			continue
		}
		want := tp.GetDims()
		same := len(want) == len(t.Shape)
		for i := 0; same && i < len(want); i++ {
			same = int(want[i]) == t.Shape[i]
		}
		if !same || t.F32 == nil {
			return nil, fmt.Errorf("tasks/segmentation: %s: tensor %q has shape %v, the model's parameter %v (float); is it a SegFormer-B0 (mit-b0) checkpoint?",
				path, name, t.Shape, want)
		}
		values[name] = t
	}
	if len(values) == 0 {
		return nil, fmt.Errorf("tasks/segmentation: %s shares no tensor names with SegFormer-B0 (want HF names such as segformer.encoder.patch_embeddings.0.proj.weight)", path)
	}
	if len(skipped) > 0 {
		slog.Info("segmentation: tensors not in the model skipped", "file", path, "count", len(skipped), "first", skipped[0])
	}
	if err := onnx.WriteBack(m, values); err != nil {
		return nil, fmt.Errorf("tasks/segmentation: %w", err)
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}
