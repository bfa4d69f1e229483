package sentencepiece

import (
	"testing"
	"time"
)

// benchModel trains a T5-like model (nmt_nfkc, 8000 pieces, T5's id layout) once for the
// benchmarks and returns it with the sentences to encode.
func benchModel(b *testing.B) (*Model, []string) {
	b.Helper()
	c := loadCorpus(b)
	path := trainSPM(b, b.TempDir(), c.train, 8000, "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1")
	m, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return m, c.eval
}

// BenchmarkEncode encodes the comparison sentences (German and English UI strings and
// license text, about 60 bytes on average) one after the other; sentences/s is the metric.
func BenchmarkEncode(b *testing.B) {
	m, lines := benchModel(b)
	var ids []int
	n := 0
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		ids = m.AppendEncode(ids[:0], lines[n%len(lines)])
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "sentences/s")
}

// BenchmarkEncodeParallel is BenchmarkEncode on all cores: a Model is shared by goroutines.
func BenchmarkEncodeParallel(b *testing.B) {
	m, lines := benchModel(b)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var ids []int
		i := 0
		for pb.Next() {
			ids = m.AppendEncode(ids[:0], lines[i%len(lines)])
			i++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sentences/s")
}

// BenchmarkDecode decodes the ids of the comparison sentences.
func BenchmarkDecode(b *testing.B) {
	m, lines := benchModel(b)
	encoded := make([][]int, len(lines))
	for i, l := range lines {
		encoded[i] = m.Encode(l)
	}
	n := 0
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		m.Decode(encoded[n%len(encoded)])
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "sentences/s")
}
