package translation

import (
	"fmt"

	"github.com/fob-go/fob/models"
	"github.com/fob-go/fob/onnx/onnxpb"
	"github.com/fob-go/fob/train/config"
)

// ModelConfig reads the T5 architecture from task.model (HF T5Config's names; the defaults
// are t5-small's: 60,506,624 parameters at vocabulary 32,128).
func ModelConfig(cfg config.Map) (models.T5, error) {
	m := models.T5Small()
	ints := []struct {
		key string
		dst *int
		min int
	}{
		{"vocab_size", &m.VocabSize, 3}, // pad, </s> and <unk> at least
		{"d_model", &m.DModel, 1},
		{"d_kv", &m.DKV, 1},
		{"d_ff", &m.DFF, 1},
		{"num_layers", &m.NumLayers, 1},
		{"num_decoder_layers", &m.NumDecoderLayers, 1},
		{"num_heads", &m.NumHeads, 1},
		{"relative_attention_num_buckets", &m.RelativeAttentionNumBuckets, 2},
		{"relative_attention_max_distance", &m.RelativeAttentionMaxDistance, 1},
	}
	for _, k := range ints {
		v, err := config.Int(cfg, "model."+k.key)
		if err != nil {
			return m, fmt.Errorf("task.%w", err)
		}
		if v < k.min {
			return m, fmt.Errorf("task.model.%s = %d: must be at least %d", k.key, v, k.min)
		}
		*k.dst = v
	}
	p, err := config.Float(cfg, "model.dropout_rate")
	if err != nil {
		return m, fmt.Errorf("task.%w", err)
	}
	if p < 0 || p >= 1 || p != p {
		return m, fmt.Errorf("task.model.dropout_rate = %v: must be in [0, 1)", p)
	}
	m.DropoutRate = p
	return m, nil
}

// BuildModel builds the T5 teacher-forcing graph described by task.model.
func (Task) BuildModel(cfg config.Map, seed int64) (*onnxpb.ModelProto, error) {
	m, err := ModelConfig(cfg)
	if err != nil {
		return nil, err
	}
	return m.Build("translation_t5", seed)
}
