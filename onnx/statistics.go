package onnx

import "github.com/fob-go/fob/onnx/onnxpb"

// BatchNormStatistics returns the names of the running statistics (inputs 3 and 4, mean and
// variance) of m's BatchNormalization nodes: model state, not parameters, so parameter counts
// and optimizers leave them out (gomlx-notes item 4).
func BatchNormStatistics(m *onnxpb.ModelProto) map[string]bool {
	s := map[string]bool{}
	for _, n := range m.GetGraph().GetNode() {
		if n.GetOpType() == "BatchNormalization" && len(n.GetInput()) >= 5 {
			s[n.GetInput()[3]], s[n.GetInput()[4]] = true, true
		}
	}
	return s
}

// ParameterCount is the number of float values in m's initializers, BatchNormalization
// running statistics excepted: the trainable weights of a fob model (its constants are
// Constant nodes), as PyTorch counts parameters.
func ParameterCount(m *onnxpb.ModelProto) int64 {
	stats := BatchNormStatistics(m)
	var n int64
	for _, init := range m.GetGraph().GetInitializer() {
		if init.GetDataType() != int32(onnxpb.TensorProto_FLOAT) || stats[init.GetName()] {
			continue
		}
		size := int64(1)
		for _, d := range init.GetDims() {
			size *= d
		}
		n += size
	}
	return n
}
