package source

import (
	"math"
	"strconv"
)

// appendJSONFloat appends f as a JSON number; NaN and infinities, which
// JSON cannot hold, become null.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendUUID appends the canonical 8-4-4-4-12 lowercase text of a 16-byte
// UUID.
func appendUUID(b []byte, u []byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xF])
	}
	return b
}
