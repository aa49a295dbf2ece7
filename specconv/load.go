// Package specconv loads a bundle's config.json, validates it before rt touches the system, and provides the
// default spec that `rt spec` writes.
package specconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	jsonfield "github.com/rtproject/rt/internal/field"
)

// LoadBundle reads <bundle>/config.json and decodes it. Malformed JSON is reported with its line and column, and a
// value of the wrong type with the JSON field that holds it. Unknown fields are ignored, as the spec requires.
func LoadBundle(bundle string) (*specs.Spec, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("config.json: bundle %s: %w", bundle, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	s, err := decodeSpec(data)
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	// linux is OPTIONAL (runtime-spec): without it the container has no
	// namespaces, limits or other Linux settings of its own, which is
	// what an empty object says to the rest of rt.
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	return s, nil
}

func decodeSpec(data []byte) (*specs.Spec, error) {
	var s specs.Spec
	err := json.Unmarshal(data, &s)
	if err == nil {
		return &s, nil
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		line, col := position(data, syntaxErr.Offset)
		return nil, fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if located := locateTypeError(data, reflect.TypeFor[specs.Spec]()); located != nil {
			return nil, located
		}
		return nil, fmt.Errorf("%s: cannot use JSON %s as %s", typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return nil, err
}

// position turns a byte offset into a 1-based line and column, the way editors show them.
func position(data []byte, offset int64) (line, col int) {
	if syntaxOffsetAtByte && offset < int64(len(data)) {
		offset++ // past the offending byte, as encoding/json v1 counts
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// locateTypeError finds the first value in data whose JSON type does not fit t. encoding/json names the field of
// a type error without array indices or map keys (process.rlimits.hard); walking the document again gives the
// exact place (process.rlimits[1].hard).
func locateTypeError(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps 1.5 and 2^64 distinguishable from integers
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	return checkJSONType(doc, t, "")
}

func checkJSONType(v any, t reflect.Type, field string) error {
	if v == nil { // null leaves any Go value untouched
		return nil
	}
	mismatch := func() error {
		return fmt.Errorf("%s: expected %s, got %s", fieldOrRoot(field), describeType(t), describeJSON(v))
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkJSONType(v, t.Elem(), field)
	case reflect.Interface:
		return nil
	case reflect.String:
		if _, ok := v.(string); !ok {
			return mismatch()
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return mismatch()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch()
		}
		if _, err := strconv.ParseInt(n.String(), 10, t.Bits()); err != nil {
			return mismatch()
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return mismatch()
		}
		if _, err := strconv.ParseUint(n.String(), 10, t.Bits()); err != nil {
			return mismatch()
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return mismatch()
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return mismatch()
		}
		for i, item := range items {
			if err := checkJSONType(item, t.Elem(), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		for _, k := range jsonfield.SortedKeys(obj) {
			if err := checkJSONType(obj[k], t.Elem(), fmt.Sprintf("%s[%q]", field, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		return checkJSONStruct(obj, t, field)
	}
	return nil
}

func checkJSONStruct(obj map[string]any, t reflect.Type, field string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct { // embedded fields sit in the same JSON object
			if err := checkJSONStruct(obj, f.Type, field); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		v, ok := obj[name]
		if !ok {
			// encoding/json matches keys case-insensitively when there is no exact match.
			for k, kv := range obj {
				if strings.EqualFold(k, name) {
					v, ok = kv, true
					break
				}
			}
		}
		if !ok {
			continue
		}
		sub := name
		if field != "" {
			sub = field + "." + name
		}
		if err := checkJSONType(v, f.Type, sub); err != nil {
			return err
		}
	}
	return nil
}

func fieldOrRoot(field string) string {
	if field == "" {
		return "(document)"
	}
	return field
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describeType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (" + t.Kind().String() + ")"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

func describeJSON(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return "an array"
	default:
		return "an object"
	}
}
