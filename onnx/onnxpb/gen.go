// Package onnxpb holds the Go types of the ONNX protobuf schema (ModelProto, GraphProto, ...),
// generated from the official onnx.proto under the proto package name fob.onnx.
//
// Regenerate with `go generate ./onnx/onnxpb` (needs protoc and the ONNX schema; see generate.sh).
package onnxpb

//go:generate ./generate.sh
