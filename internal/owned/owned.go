package owned

// By keeps a T for the context that holds a K (see the package doc). Its zero
// value holds T's zero value.
type By[T any, K any] struct{ v T }

// Get returns the value, to the holder of key.
func (b *By[T, K]) Get(key K) *T { return &b.v }
