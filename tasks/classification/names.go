package classification

// The batch contract between the data module (data.go) and the model (task.go): every batch
// carries Inputs{inputName: float32 [B,3,H,W], normalized NCHW images} and
// Targets{labelName: int64 [B], 0-based class indices}; Batch.Size is B.
const (
	inputName = "image"
	labelName = "label"
)
