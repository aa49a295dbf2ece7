//go:build !goexperiment.jsonv2

package specconv

// See syntaxoffset_jsonv2.go.
const syntaxOffsetAtByte = false
