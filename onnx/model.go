// Package onnx is fob's ONNX toolkit: loading and saving models, a graph Builder for task
// models, weight read/write-back, model signatures and metadata, and ForImport, which lowers a
// model into the op set onnx-gomlx v0.3.4 can import for training.
package onnx

import (
	"errors"
	"fmt"
	"github.com/fob-go/fob/internal/atomicfile"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// Load reads, parses and validates (see Validate) an ONNX model file: every model fob trains,
// resumes or scores from a file comes through here, so a malformed file is an error naming the
// file, never a crash later.
func Load(path string) (*onnxpb.ModelProto, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: reading model: %w", err)
	}
	m, err := Parse(b)
	if err == nil {
		err = Validate(m)
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, unwrapPrefix(err))
	}
	return m, nil
}

// errInvalid marks errors about bytes that are not an ONNX model.
var errInvalid = errors.New("not a valid ONNX model")

// unwrapPrefix drops Parse's "onnx: " prefix so Load can put the file name in front.
func unwrapPrefix(err error) error {
	var ie *invalidErr
	if errors.As(err, &ie) {
		return ie.noPrefix()
	}
	return err
}

type invalidErr struct{ why string }

func (e *invalidErr) Error() string   { return "onnx: " + errInvalid.Error() + ": " + e.why }
func (e *invalidErr) Unwrap() error   { return errInvalid }
func (e *invalidErr) noPrefix() error { return fmt.Errorf("%w: %s", errInvalid, e.why) }

// Parse decodes a serialized ONNX model. Empty input, truncated or non-protobuf bytes and
// protobufs that are not a ModelProto with a graph are errors ("not a valid ONNX model: ...").
func Parse(b []byte) (*onnxpb.ModelProto, error) {
	if len(b) == 0 {
		return nil, &invalidErr{"the data is empty"}
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, &invalidErr{fmt.Sprintf("%v (%d bytes; truncated or not an .onnx file?)", err, len(b))}
	}
	// Protobuf decoding is lenient: arbitrary bytes can decode into a message of unknown fields.
	switch {
	case m.GetGraph() == nil:
		return nil, &invalidErr{fmt.Sprintf("no graph in %d bytes (truncated or not an .onnx file?)", len(b))}
	case m.GetIrVersion() <= 0:
		return nil, &invalidErr{"ir_version is missing"}
	case len(m.GetOpsetImport()) == 0:
		return nil, &invalidErr{"opset_import is missing"}
	}
	return m, nil
}

// Marshal serializes a model deterministically (same model, same bytes).
func Marshal(m *onnxpb.ModelProto) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("onnx: Marshal of a nil model")
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: serializing model %q: %w", m.GetGraph().GetName(), err)
	}
	return b, nil
}

// Save writes a model atomically: to a temporary file in the same folder, then renamed over path.
func Save(path string, m *onnxpb.ModelProto) error {
	b, err := Marshal(m)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("onnx: saving: %w", err)
	}
	return nil
}
