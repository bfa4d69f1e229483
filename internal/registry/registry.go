// Package registry is the by-name registry behind tasks and optimizers: filled from init
// functions, as database/sql drivers are, and read concurrently afterwards.
package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Registry maps names to values of one kind ("task", "optimizer").
type Registry[T any] struct {
	kind    string
	mu      sync.RWMutex
	m       map[string]T
	aliases map[string]string // short name -> registered name
}

// New returns an empty registry whose errors call its entries kind.
func New[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, m: map[string]T{}, aliases: map[string]string{}}
}

// Alias makes short another name for the registered (or yet to be registered) name; Get and
// Canonical accept it, Names does not list it. A short name that is taken is a programming
// error and panics.
func (r *Registry[T]) Alias(short, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[short]; dup {
		panic(fmt.Sprintf("%s alias %q is already a %s name", r.kind, short, r.kind))
	}
	if _, dup := r.aliases[short]; dup {
		panic(fmt.Sprintf("%s alias %q registered twice", r.kind, short))
	}
	r.aliases[short] = name
}

// Canonical returns the registered name that name stands for: name itself, or the name an
// alias points to.
func (r *Registry[T]) Canonical(name string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if full, ok := r.aliases[name]; ok {
		return full
	}
	return name
}

// Aliases returns the short names and what each stands for.
func (r *Registry[T]) Aliases() map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]string, len(r.aliases))
	for k, v := range r.aliases {
		out[k] = v
	}
	return out
}

// Register adds v under name; a duplicate name is a programming error and panics.
func (r *Registry[T]) Register(name string, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		panic(fmt.Sprintf("%s %q registered twice", r.kind, name))
	}
	if _, dup := r.aliases[name]; dup {
		panic(fmt.Sprintf("%s %q is already an alias", r.kind, name))
	}
	r.m[name] = v
}

// Names lists the registered names, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the value registered under name, or an error that lists the valid names.
func (r *Registry[T]) Get(name string) (T, error) {
	name = r.Canonical(name)
	r.mu.RLock()
	v, ok := r.m[name]
	r.mu.RUnlock()
	if !ok {
		var zero T
		return zero, fmt.Errorf("unknown %s %q; valid %ss: %s", r.kind, name, r.kind, strings.Join(r.Names(), ", "))
	}
	return v, nil
}
