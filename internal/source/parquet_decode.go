package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/billharness/billharness/internal/jsonstr"
	"github.com/parquet-go/parquet-go"
)

// batchRows is how many rows are decoded at a time, column by column.
const batchRows = 1024

// batch holds up to batchRows decoded rows, one slice per field. Text
// fields are "" when NULL.
type batch struct {
	n                                         int
	id, eventType, customerID, subscriptionID []string
	ts                                        []time.Time
	tsErr, tsRaw                              []string
	props                                     [][]byte
	// keep, when not nil, marks the rows of the reader's shard: the other
	// rows' fields are left unconverted (see parquetReader.fill). It is
	// keepBuf or nil.
	keep, keepBuf []bool
}

func newBatch() *batch {
	return &batch{
		id: make([]string, batchRows), eventType: make([]string, batchRows),
		customerID: make([]string, batchRows), subscriptionID: make([]string, batchRows),
		ts: make([]time.Time, batchRows), tsErr: make([]string, batchRows), tsRaw: make([]string, batchRows),
		props: make([][]byte, batchRows), keepBuf: make([]bool, batchRows),
	}
}

// colReader reads the values of one leaf column of one row group.
//
// Byte-array values returned by ReadValues point into the current page,
// which parquet-go recycles when the next page is read: every value is
// copied or converted before the next ReadValues call, never kept.
type colReader struct {
	leaf    *leaf
	vr      parquet.ColumnChunkValueReader
	buf     []parquet.Value
	i, n    int               // unconsumed values buf[i:n], for repeated columns
	intern  map[string]string // shares repeated strings (event types, customer ids)
	scratch []byte
	ends    []int
}

// maxInterned bounds an intern table; it is cleared when full.
const maxInterned = 1 << 16

func newColReader(l *leaf, chunk parquet.ColumnChunk) *colReader {
	return &colReader{leaf: l, vr: parquet.NewColumnChunkValueReader(chunk), buf: make([]parquet.Value, batchRows)}
}

func (c *colReader) close() error { return c.vr.Close() }

// each calls fn with the next n values of a non-repeated column, in pieces
// valid only during the call; off is the index of vals[0] in the batch.
func (c *colReader) each(n int, fn func(off int, vals []parquet.Value)) error {
	for off := 0; off < n; {
		k, err := c.vr.ReadValues(c.buf[:min(n-off, len(c.buf))])
		if k > 0 {
			fn(off, c.buf[:k])
			off += k
			continue
		}
		switch {
		case errors.Is(err, io.EOF):
			return fmt.Errorf("column %q: values end %d rows early", c.leaf.name, n-off)
		case err != nil:
			return fmt.Errorf("column %q: %w", c.leaf.name, err)
		default:
			return fmt.Errorf("column %q: %w", c.leaf.name, io.ErrNoProgress)
		}
	}
	return nil
}

// peek returns the next unconsumed value of a repeated column, or io.EOF.
func (c *colReader) peek() (*parquet.Value, error) {
	if c.i >= c.n {
		k, err := c.vr.ReadValues(c.buf)
		if k == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return nil, err
		}
		c.i, c.n = 0, k
	}
	return &c.buf[c.i], nil
}

// text converts v, a value of an id-like column, appending to b.
func (l *leaf) appendText(b []byte, v *parquet.Value) []byte {
	switch l.conv {
	case convUUID:
		return appendUUID(b, v.ByteArray())
	case convInt:
		return strconv.AppendInt(b, v.Int64(), 10)
	case convUint:
		return strconv.AppendUint(b, v.Uint64(), 10)
	}
	return append(b, v.ByteArray()...)
}

// internedTexts decodes n values into dst, sharing equal strings: used for
// the low-cardinality columns (event type, customer, subscription).
func (c *colReader) internedTexts(n int, dst []string, keep []bool) error {
	if c.intern == nil {
		c.intern = make(map[string]string)
	}
	return c.each(n, func(off int, vals []parquet.Value) {
		for j := range vals {
			v := &vals[j]
			if v.IsNull() || (keep != nil && !keep[off+j]) {
				dst[off+j] = ""
				continue
			}
			b := v.ByteArray()
			if c.leaf.conv != convBytes {
				c.scratch = c.leaf.appendText(c.scratch[:0], v)
				b = c.scratch
			}
			s, ok := c.intern[string(b)] // no allocation for the lookup
			if !ok {
				if len(c.intern) >= maxInterned {
					clear(c.intern)
				}
				s = string(b)
				c.intern[s] = s
			}
			dst[off+j] = s
		}
	})
}

// texts decodes n values into dst as substrings of one string per call, so
// a batch of unique ids costs one allocation. A kept id keeps its batch's
// string alive (about 40 KB): bounded, and freed with the events.
func (c *colReader) texts(n int, dst []string, keep []bool) error {
	c.scratch, c.ends = c.scratch[:0], c.ends[:0]
	err := c.each(n, func(off int, vals []parquet.Value) {
		for j := range vals {
			if !vals[j].IsNull() && (keep == nil || keep[off+j]) {
				c.scratch = c.leaf.appendText(c.scratch, &vals[j])
			}
			c.ends = append(c.ends, len(c.scratch))
		}
	})
	if err != nil {
		return err
	}
	s, start := string(c.scratch), 0
	for i, end := range c.ends {
		dst[i] = s[start:end]
		start = end
	}
	return nil
}

// timestamps decodes n timestamps into b.
func (c *colReader) timestamps(n int, b *batch) error {
	l := c.leaf
	return c.each(n, func(off int, vals []parquet.Value) {
		for j := range vals {
			i := off + j
			v := &vals[j]
			b.tsErr[i], b.tsRaw[i] = "", ""
			if b.keep != nil && !b.keep[i] {
				continue
			}
			if v.IsNull() {
				b.ts[i], b.tsErr[i] = time.Time{}, "missing"
				continue
			}
			switch l.conv {
			case convTimestamp:
				b.ts[i] = fromTicks(v.Int64(), l.unit)
			case convEpoch:
				b.ts[i] = fromEpoch(v.Int64())
			case convInt96:
				b.ts[i] = fromInt96(v)
			case convRFC3339:
				raw := string(v.ByteArray())
				b.ts[i], b.tsErr[i] = parseTimestampText(raw)
				if b.tsErr[i] != "" {
					b.tsRaw[i] = raw
				}
			}
		}
	})
}

// fromTicks converts an INT64 TIMESTAMP of unit nanoseconds per tick.
func fromTicks(v, unit int64) time.Time {
	switch unit {
	case 1e6:
		return time.UnixMilli(v).UTC()
	case 1e3:
		return time.UnixMicro(v).UTC()
	}
	return time.Unix(0, v).UTC()
}

// fromEpoch converts an unannotated INT64 epoch, choosing the unit by
// magnitude: below 1e11 seconds (until year 5138), below 1e14
// milliseconds, below 1e17 microseconds, else nanoseconds.
func fromEpoch(v int64) time.Time {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case a < 1e11:
		return time.Unix(v, 0).UTC()
	case a < 1e14:
		return time.UnixMilli(v).UTC()
	case a < 1e17:
		return time.UnixMicro(v).UTC()
	}
	return time.Unix(0, v).UTC()
}

// fromInt96 converts a legacy Impala/Spark INT96 timestamp: nanoseconds of
// the day, then the Julian day.
func fromInt96(v *parquet.Value) time.Time {
	i := v.Int96()
	nanos := int64(uint64(i[0]) | uint64(i[1])<<32)
	const unixJulianDay = 2440588
	days := int64(i[2]) - unixJulianDay
	return time.Unix(days*86400, nanos).UTC()
}

// appendJSONValue renders one property value as JSON.
func (l *leaf) appendJSONValue(b []byte, v *parquet.Value) []byte {
	if v.IsNull() {
		return append(b, "null"...)
	}
	switch l.conv {
	case convBool:
		return strconv.AppendBool(b, v.Boolean())
	case convInt:
		return strconv.AppendInt(b, v.Int64(), 10)
	case convUint:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case convFloat:
		if v.Kind() == parquet.Float {
			return appendJSONFloat(b, float64(v.Float()), 32)
		}
		return appendJSONFloat(b, v.Double(), 64)
	case convTimestamp:
		b = append(b, '"')
		b = fromTicks(v.Int64(), l.unit).AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case convUUID:
		b = append(b, '"')
		b = appendUUID(b, v.ByteArray())
		return append(b, '"')
	case convJSON:
		// A JSON-typed value is embedded as is when valid, else as text.
		if json.Valid(v.ByteArray()) {
			return append(b, v.ByteArray()...)
		}
	}
	return jsonstr.Append(b, v.ByteArray())
}
