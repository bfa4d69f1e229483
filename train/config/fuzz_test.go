package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// roundTripValues is the largest decoded value the fuzz target writes back and reads again.
const roundTripValues = 10_000

// FuzzDecode: any YAML text decodes to config values or to an error, without a panic, within
// a deadline (aliases are counted as expanded); what decodes is written back by Marshal and
// reads back to the same values (what experiment.yaml and config.yaml rely on). Seeds: the
// repository's experiment files and default files.
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 20s ./train/config
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"../../examples/*.yaml", "../../examples/*/*.yaml", "../experiment/testdata/*.yaml", "*.yaml", "../../tasks/*/default.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	for _, s := range []string{"a: &x [1, *x]", "<<: {a: 1}", "a: !literal 1", "x: 1e-3\ny: '1e-3'\nz: 0o17", "- .nan\n- -.inf\n- 1:00:00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := DecodeOrderedContext(ctx, data, "fuzz.yaml")
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatal("decoding took more than 10 s")
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if CountValues(v, roundTripValues+1) > roundTripValues {
			return // aliases expanded into a large value: writing it out is slow, not wrong
		}
		text, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%s): %v", PyRepr(ToPlain(v)), err)
		}
		back, err := DecodeOrdered(text, "marshalled.yaml")
		if err != nil {
			t.Fatalf("Marshal's output does not decode: %v\n%s", err, text)
		}
		if got, want := PyRepr(ToPlain(back)), PyRepr(ToPlain(v)); got != want {
			t.Fatalf("round trip changes the value:\n got %s\nwant %s\nvia\n%s", got, want, text)
		}
	})
}
