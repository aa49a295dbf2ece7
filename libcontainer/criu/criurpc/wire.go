package criurpc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Wire types of the protobuf encoding: what follows a field's tag.
const (
	wireVarint     = 0
	wireFixed64    = 1
	wireBytes      = 2 // a varint length, then that many bytes
	wireStartGroup = 3 // proto2 groups: fields up to the matching end tag
	wireEndGroup   = 4
	wireFixed32    = 5
)

// maxFieldNumber is the largest field number protobuf allows (2^29-1).
const maxFieldNumber = 1<<29 - 1

// maxGroupDepth bounds the nesting of groups skipped as unknown fields, so
// that a hostile message cannot exhaust the stack.
const maxGroupDepth = 64

var errTruncated = errors.New("truncated message")

// tag is what precedes a field on the wire: its number and wire type.
func tag(num, wire int) uint64 { return uint64(num)<<3 | uint64(wire) }

// encoder appends the fields of one message, in the order they are added:
// the messages' encode methods add them by field number, as protobuf-go
// does, so that rt sends the bytes it sent with go-criu.
type encoder struct{ b []byte }

func (e *encoder) varint(num int, v uint64) {
	e.b = binary.AppendUvarint(e.b, tag(num, wireVarint))
	e.b = binary.AppendUvarint(e.b, v)
}

// int32 and enums are sign-extended to 64 bits: a negative value (fd -1)
// takes ten bytes, which is what CRIU's decoder expects.
func (e *encoder) int32(num int, v int32) { e.varint(num, uint64(int64(v))) }

func (e *encoder) bool(num int, v bool) {
	var b uint64
	if v {
		b = 1
	}
	e.varint(num, b)
}

func (e *encoder) bytes(num int, s string) { e.b = appendBytes(e.b, num, s) }

func (e *encoder) message(num int, m interface{ encode(*encoder) }) {
	var sub encoder
	m.encode(&sub)
	e.b = appendBytes(e.b, num, sub.b)
}

// optMessage sends m unless it is nil.
func optMessage[T any, P interface {
	*T
	encode(*encoder)
}](e *encoder, num int, m P) {
	if m != nil {
		e.message(num, m)
	}
}

func appendBytes[T string | []byte](b []byte, num int, p T) []byte {
	b = binary.AppendUvarint(b, tag(num, wireBytes))
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// The optional fields of proto2 are sent only when set: a pointer that is
// not nil, or, where CRIU gives the zero value no meaning of its own, a
// value that is not zero.

func (e *encoder) optBool(num int, v *bool) {
	if v != nil {
		e.bool(num, *v)
	}
}

func (e *encoder) optInt32(num int, v *int32) {
	if v != nil {
		e.int32(num, *v)
	}
}

func (e *encoder) nonZeroInt32(num int, v int32) {
	if v != 0 {
		e.int32(num, v)
	}
}

func (e *encoder) nonEmpty(num int, s string) {
	if s != "" {
		e.bytes(num, s)
	}
}

// field is one field read from the wire. Fields of a fixed size and groups
// are reported too (without a value): no message here declares one, so they
// are unknown fields, skipped.
type field struct {
	num  int
	tag  uint64
	v    uint64 // wireVarint: the value
	data []byte // wireBytes: the payload, a slice of the message
}

func (f field) int32() int32 { return int32(f.v) }
func (f field) bool() bool   { return f.v != 0 }

// readField reads the field at the start of b and returns it with the rest
// of b. A group is read through its end tag; an end tag is returned as a
// field for readGroup to match.
func readField(b []byte, depth int) (field, []byte, error) {
	t, n := binary.Uvarint(b)
	if n <= 0 {
		return field{}, nil, fmt.Errorf("tag: %w", varintErr(n))
	}
	b = b[n:]
	num, wire := t>>3, int(t&7)
	if num == 0 || num > maxFieldNumber {
		return field{}, nil, fmt.Errorf("invalid field number %d", num)
	}
	f := field{num: int(num), tag: t}
	switch wire {
	case wireVarint:
		if f.v, n = binary.Uvarint(b); n <= 0 {
			return field{}, nil, fmt.Errorf("field %d: %w", num, varintErr(n))
		}
		b = b[n:]
	case wireFixed64, wireFixed32:
		size := 8
		if wire == wireFixed32 {
			size = 4
		}
		if len(b) < size {
			return field{}, nil, fmt.Errorf("field %d: %w", num, errTruncated)
		}
		b = b[size:]
	case wireBytes:
		l, n := binary.Uvarint(b)
		if n <= 0 {
			return field{}, nil, fmt.Errorf("field %d length: %w", num, varintErr(n))
		}
		b = b[n:]
		if l > uint64(len(b)) {
			return field{}, nil, fmt.Errorf("field %d: length %d past the end of the message (%d bytes left)", num, l, len(b))
		}
		f.data, b = b[:l:l], b[l:]
	case wireStartGroup:
		var err error
		if b, err = readGroup(b, f.num, depth+1); err != nil {
			return field{}, nil, err
		}
	case wireEndGroup:
	default:
		return field{}, nil, fmt.Errorf("field %d: invalid wire type %d", num, wire)
	}
	return f, b, nil
}

// readGroup skips the fields of group num up to its end tag and returns
// what follows.
func readGroup(b []byte, num, depth int) ([]byte, error) {
	if depth > maxGroupDepth {
		return nil, fmt.Errorf("field %d: groups nested deeper than %d", num, maxGroupDepth)
	}
	for {
		if len(b) == 0 {
			return nil, fmt.Errorf("group %d: %w", num, errTruncated)
		}
		f, rest, err := readField(b, depth)
		if err != nil {
			return nil, err
		}
		if f.tag&7 == wireEndGroup {
			if f.num != num {
				return nil, fmt.Errorf("group %d ended by the end of group %d", num, f.num)
			}
			return rest, nil
		}
		b = rest
	}
}

// eachField hands each field of message b to fn, in wire order. A field
// whose tag fn does not know is an unknown field: fn ignores it.
func eachField(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		f, rest, err := readField(b, 0)
		if err != nil {
			return err
		}
		if f.tag&7 == wireEndGroup {
			return fmt.Errorf("end of group %d outside a group", f.num)
		}
		if err := fn(f); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

func varintErr(n int) error {
	if n == 0 {
		return fmt.Errorf("varint: %w", errTruncated)
	}
	return errors.New("varint longer than 64 bits")
}
