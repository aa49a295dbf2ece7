//go:build goexperiment.jsonv2

package specconv

// With GOEXPERIMENT=jsonv2 (how the Makefile builds rt), encoding/json's
// SyntaxError.Offset is the offset of the offending byte; without it, the
// number of bytes read up to and including that byte.
const syntaxOffsetAtByte = true
