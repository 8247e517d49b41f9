package source

import (
	"fmt"
	"io"

	"github.com/billharness/billharness/internal/jsonstr"
	"github.com/parquet-go/parquet-go"
)

// arena hands out properties as capped slices of large append-only
// buffers, so a batch of events costs a few allocations instead of one
// per event. Bytes once handed out are never written again: a new buffer
// is started instead, and old ones live as long as the events that use
// them.
type arena struct{ buf []byte }

const arenaSize = 256 << 10

// start returns the offset where the next value begins.
func (a *arena) start() int {
	if cap(a.buf)-len(a.buf) < 4<<10 {
		a.buf = make([]byte, 0, arenaSize)
	}
	return len(a.buf)
}

// end returns the value appended since start; nil when empty.
func (a *arena) end(start int) []byte {
	if len(a.buf) == start {
		return nil
	}
	return a.buf[start:len(a.buf):len(a.buf)]
}

// jsonProps copies n JSON-text properties into b.props.
func (c *colReader) jsonProps(n int, b *batch, a *arena) error {
	return c.each(n, func(off int, vals []parquet.Value) {
		for j := range vals {
			if vals[j].IsNull() || (b.keep != nil && !b.keep[off+j]) {
				b.props[off+j] = nil
				continue
			}
			s := a.start()
			a.buf = append(a.buf, vals[j].ByteArray()...)
			b.props[off+j] = a.end(s)
		}
	})
}

// mapProps renders n rows of a MAP column as JSON objects. A NULL or
// empty map gives no properties; a NULL value renders as null.
func mapProps(key, val *colReader, n int, b *batch, a *arena) error {
	for i := range n {
		s := a.start()
		entries := 0
		skip := b.keep != nil && !b.keep[i]
		for first := true; ; first = false {
			k, err := key.peek()
			if err == io.EOF && !first {
				break
			}
			if err != nil {
				return fmt.Errorf("column %q: row %d of %d: %w", key.leaf.name, i, n, err)
			}
			if !first && k.RepetitionLevel() == 0 {
				break
			}
			v, err := val.peek()
			if err != nil {
				return fmt.Errorf("column %q: row %d of %d: %w", val.leaf.name, i, n, err)
			}
			if !k.IsNull() && !skip {
				if entries == 0 {
					a.buf = append(a.buf, '{')
				} else {
					a.buf = append(a.buf, ',')
				}
				a.buf = jsonstr.Append(a.buf, k.ByteArray())
				a.buf = append(a.buf, ':')
				a.buf = val.leaf.appendJSONValue(a.buf, v)
				entries++
			}
			key.i++
			val.i++
		}
		if entries > 0 {
			a.buf = append(a.buf, '}')
		}
		b.props[i] = a.end(s)
	}
	return nil
}

// typedProps renders n rows of typed columns as JSON objects keyed by
// column name; NULL values are left out.
func typedProps(cols []*colReader, n int, b *batch, a *arena) error {
	for _, c := range cols {
		c.scratch, c.ends = c.scratch[:0], c.ends[:0]
		err := c.each(n, func(off int, vals []parquet.Value) {
			for j := range vals {
				if !vals[j].IsNull() && (b.keep == nil || b.keep[off+j]) {
					c.scratch = c.leaf.appendJSONValue(c.scratch, &vals[j])
				}
				c.ends = append(c.ends, len(c.scratch))
			}
		})
		if err != nil {
			return err
		}
	}
	for i := range n {
		s := a.start()
		entries := 0
		for _, c := range cols {
			lo, hi := 0, c.ends[i]
			if i > 0 {
				lo = c.ends[i-1]
			}
			if lo == hi {
				continue
			}
			if entries == 0 {
				a.buf = append(a.buf, '{')
			} else {
				a.buf = append(a.buf, ',')
			}
			a.buf = jsonstr.Append(a.buf, []byte(c.leaf.name))
			a.buf = append(a.buf, ':')
			a.buf = append(a.buf, c.scratch[lo:hi]...)
			entries++
		}
		if entries > 0 {
			a.buf = append(a.buf, '}')
		}
		b.props[i] = a.end(s)
	}
	return nil
}
