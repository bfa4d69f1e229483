package onnxpb_test

import (
	"testing"

	_ "github.com/gomlx/onnx-gomlx/onnx" // links onnx-gomlx's own ONNX protos into this binary
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/fob-go/fob/onnx/onnxpb"
)

// TestRegistryNames guards the regeneration: fob's ONNX types must live under their own proto
// package and file name, or they collide with onnx-gomlx's copy at init time.
func TestRegistryNames(t *testing.T) {
	d := (&onnxpb.ModelProto{}).ProtoReflect().Descriptor()
	if got := string(d.FullName()); got != "fob.onnx.ModelProto" {
		t.Fatalf("ModelProto full name %q, want fob.onnx.ModelProto", got)
	}
	if got := d.ParentFile().Path(); got != "fob_onnx.proto" {
		t.Fatalf("proto file %q, want fob_onnx.proto", got)
	}
	if _, err := protoregistry.GlobalTypes.FindMessageByName("fob.onnx.TensorProto"); err != nil {
		t.Fatal(err)
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: &onnxpb.GraphProto{Name: proto.String("g")}}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back onnxpb.ModelProto
	if err := proto.Unmarshal(b, &back); err != nil || back.GetGraph().GetName() != "g" || back.GetIrVersion() != 8 {
		t.Fatalf("round trip: %v %v", &back, err)
	}
}
