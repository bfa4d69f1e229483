package runtime

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/gomlx/gomlx/pkg/core/graph"
)

// nodeParams returns the parameter struct GoMLX keeps, unexported, behind a graph node (e.g.
// a DotGeneral's axes, a Pad's configuration), for gradients that need them. Reflection may read,
// never write, it.
func nodeParams(node *graph.Node, op string) (reflect.Value, error) {
	in := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !in.IsValid() || in.IsNil() {
		return reflect.Value{}, fmt.Errorf("graph.Node has no inputs field")
	}
	params := in.Elem()
	if params.Kind() == reflect.Pointer {
		params = params.Elem()
	}
	if params.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("%s inputs are a %s, not a struct", op, params.Kind())
	}
	return params, nil
}

// paramField returns field name of params (from nodeParams) as its Go value; it panics, for the
// caller's recover, when the field is missing or has another type than T.
func paramField[T any](params reflect.Value, name string) T {
	f := params.FieldByName(name)
	if !f.IsValid() || !f.CanAddr() {
		panic(fmt.Sprintf("no addressable field %s", name))
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(T)
}
