package cassette_test

import (
	"bytes"
	"testing"

	"github.com/btc-handshake/btc-handshake/cassette"
)

// FuzzRead feeds arbitrary bytes to the reader: it must return a cassette
// or an error, never panic, and what it accepts must write and read back.
func FuzzRead(f *testing.F) {
	f.Add([]byte(header + `{"type":"conn","id":1,"transport":"v1"}
{"type":"event","conn":1,"from":"client","t_us":3,"bytes":"+r+12nZlcnNpb24AAAAAAA==","msgs":[{"cmd":"version","len":0}]}
{"type":"end","conn":1,"how":"rst","by":"node","t_us":9}`))
	f.Add([]byte(header))
	f.Add([]byte(`{"type":"cassette","format":1}` + "\n" + `{"type":"event","conn":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := cassette.Read(bytes.NewReader(data), cassette.WithLimits(1<<16, 1<<20))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := c.Write(&buf); err != nil {
			t.Fatalf("write of an accepted cassette: %v", err)
		}
		if _, err := cassette.Read(&buf); err != nil {
			t.Fatalf("reading back an accepted cassette: %v", err)
		}
		_ = cassette.WriteTranscript(&bytes.Buffer{}, c)
		_ = cassette.WriteDiagram(&bytes.Buffer{}, c)
	})
}
