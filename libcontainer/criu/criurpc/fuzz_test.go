package criurpc

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeResp: no input makes the decoder panic, and whatever it
// accepts encodes to a reply that decodes the same, and encodes the same again.
func FuzzDecodeResp(f *testing.F) {
	for _, g := range goldenResps {
		f.Add(unhex(f, g.hex))
	}
	f.Add(unhex(f, "08031001"+"73"+"0801"+"13"+"0d01020304"+"14"+"74"))
	f.Add(unhex(f, "080610012a0b0a09706f73742d64756d702a02102a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Resp
		if r.Unmarshal(data) != nil {
			return
		}
		enc := r.Marshal()
		var again Resp
		if err := again.Unmarshal(enc); err != nil {
			t.Fatalf("%x decodes to %+v, which encodes to %x, which does not decode: %v", data, r, enc, err)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("%x decodes to %+v, encoded %x decodes to %+v", data, r, enc, again)
		}
		if enc2 := again.Marshal(); !bytes.Equal(enc, enc2) {
			t.Fatalf("%+v encodes to %x, then to %x", r, enc, enc2)
		}
	})
}
