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
	r.Alias("bee", "b")
	if v, err := r.Get("bee"); err != nil || v != 2 {
		t.Errorf("Get(bee) = %v, %v", v, err)
	}
	if got := r.Canonical("bee") + "," + r.Canonical("a") + "," + r.Canonical("zz"); got != "b,a,zz" {
		t.Errorf("Canonical = %s", got)
	}
	if got := strings.Join(r.Names(), ","); got != "a,b" {
		t.Errorf("Names lists aliases: %s", got)
	}
	for name, f := range map[string]func(){
		"duplicate Register":     func() { r.Register("a", 3) },
		"alias over a name":      func() { r.Alias("a", "b") },
		"duplicate alias":        func() { r.Alias("bee", "a") },
		"register over an alias": func() { r.Register("bee", 4) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
