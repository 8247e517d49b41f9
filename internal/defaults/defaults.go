// Package defaults fills in the zero (or negative) fields of a
// configuration with their documented defaults, one line a field.
package defaults

// Number is what a default can be given to.
type Number interface {
	~int | ~int64 | ~float64 // time.Duration is an ~int64
}

// Set sets *v to d when *v is zero or negative: unset.
func Set[T Number](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
