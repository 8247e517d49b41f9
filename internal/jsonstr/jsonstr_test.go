package jsonstr

import (
	"encoding/json"
	"testing"
)

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"\\\n\r\t\x00\x1f<>&", "é中文\u2028\u2029", "bad\xff\xfeutf8", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := Append(nil, s); string(got) != string(want) {
			t.Fatalf("Append(%q) = %s, want %s (encoding/json)", s, got, want)
		}
		if got := Append(nil, []byte(s)); string(got) != string(want) {
			t.Fatalf("Append([]byte(%q)) = %s, want %s (encoding/json)", s, got, want)
		}
	})
}

func TestAppendAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	b := []byte("01944b1f-0000-7000-8000-000000000001 ü \xff")
	if n := testing.AllocsPerRun(100, func() { _ = Append(buf[:0], b) }); n != 0 {
		t.Errorf("Append allocates %v times per call, want 0", n)
	}
}
