package registry

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	r := New[int]("widget")
	r.Register("b", 2)
	r.Register("a", 1)
	if got := strings.Join(r.Names(), ","); got != "a,b" {
		t.Errorf("Names = %s", got)
	}
	if v, err := r.Get("b"); err != nil || v != 2 {
		t.Errorf("Get(b) = %v, %v", v, err)
	}
	_, err := r.Get("c")
	if err == nil || !strings.Contains(err.Error(), `unknown widget "c"; valid widgets: a, b`) {
		t.Errorf("Get(c) error = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate Register did not panic")
		}
	}()
	r.Register("a", 3)
}
