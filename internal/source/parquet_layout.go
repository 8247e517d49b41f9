package source

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// layout is where the event fields live in one Parquet file's schema and
// how to decode them. Files of one source may differ (a column added, a
// type widened): each file gets its own layout.
type layout struct {
	id, eventType, customerID, subscriptionID *leaf // subscriptionID may be nil
	timestamp                                 *leaf
	props                                     propsLayout
}

// Ways properties are stored.
const (
	propsNone  = iota // no properties column
	propsJSON         // a JSON text column
	propsMap          // a MAP column: key/value leaves
	propsTyped        // a list of typed columns, keyed by column name
)

type propsLayout struct {
	mode       int
	json       *leaf
	key, value *leaf
	typed      []*leaf
}

// leaf is one leaf column and how to decode its values.
type leaf struct {
	name   string // dotted path, for errors and typed-property keys
	index  int    // leaf column index in the row group
	kind   parquet.Kind
	conv   int // how to decode, one of the conv* constants
	unit   int64
	maxDef int
}

// Value conversions, chosen once per column so the per-value loops only
// switch on a small integer.
const (
	convBytes     = iota // BYTE_ARRAY as text
	convInt              // INT32/INT64 as decimal text or number
	convUint             // unsigned INT32/INT64
	convUUID             // FIXED_LEN_BYTE_ARRAY(16) UUID as canonical text
	convTimestamp        // INT64 TIMESTAMP: unit nanoseconds per tick
	convEpoch            // INT64 without annotation: epoch, unit by magnitude
	convInt96            // legacy INT96 timestamp
	convRFC3339          // BYTE_ARRAY RFC 3339 text
	convBool             // BOOLEAN
	convFloat            // FLOAT/DOUBLE
	convJSON             // BYTE_ARRAY with the JSON logical type
)

// resolveLayout finds the spec's columns in a file's schema.
func resolveLayout(root *parquet.Column, spec Spec) (*layout, error) {
	var l layout
	var err error
	if l.id, err = textLeaf(root, spec, FieldID, true); err != nil {
		return nil, err
	}
	if l.eventType, err = textLeaf(root, spec, FieldEventType, true); err != nil {
		return nil, err
	}
	if l.customerID, err = textLeaf(root, spec, FieldCustomerID, true); err != nil {
		return nil, err
	}
	_, mapped := spec.Columns[FieldSubscriptionID]
	if l.subscriptionID, err = textLeaf(root, spec, FieldSubscriptionID, mapped); err != nil {
		return nil, err
	}
	if l.timestamp, err = timestampLeaf(root, spec); err != nil {
		return nil, err
	}
	if l.props, err = resolveProps(root, spec); err != nil {
		return nil, err
	}
	return &l, nil
}

// lookup finds a column by dotted path.
func lookup(root *parquet.Column, name string) *parquet.Column {
	c := root
	for _, part := range strings.Split(name, ".") {
		if c = c.Column(part); c == nil {
			return nil
		}
	}
	return c
}

func notFound(root *parquet.Column, field, name string) error {
	var names []string
	for _, c := range root.Columns() {
		names = append(names, c.Name())
	}
	return fmt.Errorf("column %q (%s) not found; the file has %s", name, field, strings.Join(names, ", "))
}

func newLeaf(c *parquet.Column, name string) (*leaf, error) {
	if !c.Leaf() {
		return nil, fmt.Errorf("column %q is a group, want a plain column", name)
	}
	if c.MaxRepetitionLevel() > 0 {
		return nil, fmt.Errorf("column %q is repeated, want a plain column", name)
	}
	return &leaf{name: name, index: c.Index(), kind: c.Type().Kind(), maxDef: c.MaxDefinitionLevel()}, nil
}

// textLeaf resolves an id-like column: text, UUID or integer.
func textLeaf(root *parquet.Column, spec Spec, field string, required bool) (*leaf, error) {
	name := spec.column(field)
	c := lookup(root, name)
	if c == nil {
		if !required {
			return nil, nil
		}
		return nil, notFound(root, field, name)
	}
	l, err := newLeaf(c, name)
	if err != nil {
		return nil, err
	}
	t := c.Type()
	switch {
	case l.kind == parquet.ByteArray:
		l.conv = convBytes
	case l.kind == parquet.FixedLenByteArray && t.Length() == 16 && isUUID(t):
		l.conv = convUUID
	case l.kind == parquet.Int32 || l.kind == parquet.Int64:
		l.conv = intConv(t)
	default:
		return nil, fmt.Errorf("column %q (%s) has type %s, want a string, UUID or integer", name, field, t)
	}
	return l, nil
}

// logical returns the column's logical type annotation, or nil.
func logical(t parquet.Type) format.LogicalTypeValue {
	if lt := t.LogicalType(); lt != nil {
		return lt.Value
	}
	return nil
}

func isUUID(t parquet.Type) bool {
	_, ok := logical(t).(*format.UUIDType)
	return ok
}

func intConv(t parquet.Type) int {
	if it, ok := logical(t).(*format.IntType); ok && !it.IsSigned {
		return convUint
	}
	if ct := t.ConvertedType(); ct != nil && (*ct == deprecated.Uint8 || *ct == deprecated.Uint16 || *ct == deprecated.Uint32 || *ct == deprecated.Uint64) {
		return convUint
	}
	return convInt
}

// timestampUnit returns nanoseconds per tick of an INT64 TIMESTAMP column,
// or 0 when the column is not annotated as one. Timestamps that are not
// adjusted to UTC (local wall-clock) are read as UTC.
func timestampUnit(t parquet.Type) int64 {
	if ts, ok := logical(t).(*format.TimestampType); ok {
		switch ts.Unit.Value.(type) {
		case *format.MilliSeconds:
			return 1e6
		case *format.MicroSeconds:
			return 1e3
		case *format.NanoSeconds:
			return 1
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return 1e6
		case deprecated.TimestampMicros:
			return 1e3
		}
	}
	return 0
}

func timestampLeaf(root *parquet.Column, spec Spec) (*leaf, error) {
	name := spec.column(FieldTimestamp)
	c := lookup(root, name)
	if c == nil {
		return nil, notFound(root, FieldTimestamp, name)
	}
	l, err := newLeaf(c, name)
	if err != nil {
		return nil, err
	}
	t := c.Type()
	switch lt := logical(t).(type) {
	case *format.TimeType, *format.DateType:
		// A time of day or a date is not an instant: read as epoch seconds it
		// would put every event in 1970.
		return nil, fmt.Errorf("column %q (timestamp) has type %s, a time of day or a date, not an instant: want TIMESTAMP, INT64 epoch or RFC 3339 text", name, t)
	case *format.DecimalType, *format.IntType:
		if lt != nil && l.kind == parquet.Int64 {
			if it, ok := lt.(*format.IntType); !ok || it.BitWidth != 64 || !it.IsSigned {
				return nil, fmt.Errorf("column %q (timestamp) has type %s: want TIMESTAMP, INT64 epoch seconds or RFC 3339 text", name, t)
			}
		}
	}
	switch l.kind {
	case parquet.Int64:
		if l.unit = timestampUnit(t); l.unit != 0 {
			l.conv = convTimestamp
		} else {
			l.conv = convEpoch
		}
	case parquet.Int96:
		l.conv = convInt96
	case parquet.ByteArray:
		l.conv = convRFC3339
	default:
		return nil, fmt.Errorf("column %q (timestamp) has type %s, want TIMESTAMP, INT64 epoch or RFC 3339 text", name, t)
	}
	return l, nil
}

func resolveProps(root *parquet.Column, spec Spec) (propsLayout, error) {
	if len(spec.Properties) > 0 {
		p := propsLayout{mode: propsTyped}
		for _, name := range spec.Properties {
			c := lookup(root, name)
			if c == nil {
				return p, notFound(root, "property", name)
			}
			l, err := valueLeaf(c, name)
			if err != nil {
				return p, err
			}
			p.typed = append(p.typed, l)
		}
		return p, nil
	}
	name := spec.column(FieldProperties)
	c := lookup(root, name)
	if c == nil {
		if _, mapped := spec.Columns[FieldProperties]; mapped {
			return propsLayout{}, notFound(root, FieldProperties, name)
		}
		return propsLayout{mode: propsNone}, nil
	}
	if c.Leaf() {
		l, err := newLeaf(c, name)
		if err != nil {
			return propsLayout{}, err
		}
		if l.kind != parquet.ByteArray {
			return propsLayout{}, fmt.Errorf("column %q (properties) has type %s, want JSON text or a MAP", name, c.Type())
		}
		l.conv = convBytes
		return propsLayout{mode: propsJSON, json: l}, nil
	}
	return mapLayout(c, name)
}

// mapLayout resolves a MAP column: a group holding one repeated group of a
// key and a value leaf, whatever the writer named them (key_value, map,
// entries…).
func mapLayout(c *parquet.Column, name string) (propsLayout, error) {
	kids := c.Columns()
	if len(kids) != 1 || !kids[0].Repeated() || len(kids[0].Columns()) != 2 {
		return propsLayout{}, fmt.Errorf("column %q (properties) is a group but not a MAP", name)
	}
	k, v := kids[0].Columns()[0], kids[0].Columns()[1]
	if !k.Leaf() || !v.Leaf() || k.MaxRepetitionLevel() != 1 || v.MaxRepetitionLevel() != 1 {
		return propsLayout{}, fmt.Errorf("column %q (properties): map keys and values must be plain columns", name)
	}
	if k.Type().Kind() != parquet.ByteArray {
		return propsLayout{}, fmt.Errorf("column %q (properties): map keys have type %s, want strings", name, k.Type())
	}
	key := &leaf{name: name + ".key", index: k.Index(), kind: parquet.ByteArray, conv: convBytes, maxDef: k.MaxDefinitionLevel()}
	val, err := valueConv(&leaf{name: name + ".value", index: v.Index(), kind: v.Type().Kind(), maxDef: v.MaxDefinitionLevel()}, v.Type())
	if err != nil {
		return propsLayout{}, err
	}
	return propsLayout{mode: propsMap, key: key, value: val}, nil
}

// valueLeaf resolves a typed property column.
func valueLeaf(c *parquet.Column, name string) (*leaf, error) {
	l, err := newLeaf(c, name)
	if err != nil {
		return nil, err
	}
	return valueConv(l, c.Type())
}

// valueConv picks how a property value renders as JSON.
func valueConv(l *leaf, t parquet.Type) (*leaf, error) {
	lt := logical(t)
	switch l.kind {
	case parquet.Boolean:
		l.conv = convBool
	case parquet.Int32, parquet.Int64:
		if _, ok := lt.(*format.DecimalType); ok {
			return nil, fmt.Errorf("column %q has type %s: DECIMAL properties are not supported, cast to an integer or double", l.name, t)
		}
		l.conv = intConv(t)
		if l.kind == parquet.Int64 {
			if l.unit = timestampUnit(t); l.unit != 0 {
				l.conv = convTimestamp
			}
		}
	case parquet.Float, parquet.Double:
		l.conv = convFloat
	case parquet.ByteArray:
		l.conv = convBytes
		if _, ok := lt.(*format.JsonType); ok {
			l.conv = convJSON
		}
	case parquet.FixedLenByteArray:
		if t.Length() != 16 || !isUUID(t) {
			return nil, fmt.Errorf("column %q has unsupported type %s", l.name, t)
		}
		l.conv = convUUID
	default:
		return nil, fmt.Errorf("column %q has unsupported type %s", l.name, t)
	}
	return l, nil
}

// leaves lists every leaf column the layout reads, in a fixed order.
func (l *layout) leaves() []*leaf {
	out := []*leaf{l.id, l.eventType, l.customerID, l.timestamp}
	if l.subscriptionID != nil {
		out = append(out, l.subscriptionID)
	}
	switch l.props.mode {
	case propsJSON:
		out = append(out, l.props.json)
	case propsMap:
		out = append(out, l.props.key, l.props.value)
	case propsTyped:
		out = append(out, l.props.typed...)
	}
	return out
}
