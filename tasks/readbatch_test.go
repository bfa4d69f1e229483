package tasks_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/fob-go/fob/tasks"
)

// panicky is a dataset whose Batch behaves as a data module meeting a damaged file.
type panicky struct{ value any }

func (p panicky) Len() int { return 4 }

func (p panicky) Batch(idx []int) tasks.Batch {
	if p.value != nil {
		panic(p.value)
	}
	return tasks.Batch{Size: len(idx)}
}

func TestReadBatch(t *testing.T) {
	damaged := &fs.PathError{Op: "decode", Path: "images/training/ADE_train_00000001.jpg", Err: errors.New("unexpected EOF")}
	for _, c := range []struct {
		name  string
		value any
		want  string // "" for no error
		is    error
	}{
		{"ok", nil, "", nil},
		{"error value keeps its chain", damaged, "reading a batch of 2 examples: decode images/training/ADE_train_00000001.jpg: unexpected EOF", damaged},
		{"other values are printed", "crop larger than the image", "reading a batch of 2 examples: crop larger than the image", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := tasks.ReadBatch(panicky{c.value}, []int{0, 3})
			if c.want == "" {
				if err != nil || b.Size != 2 {
					t.Fatalf("got %+v, %v; want a batch of 2", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("errors.Is(%v, the panic's error) = false", err)
			}
		})
	}
}
