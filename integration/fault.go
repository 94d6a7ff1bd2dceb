package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// FaultProxy is an embedded toxiproxy (github.com/Shopify/toxiproxy/v2)
// that runs in the test process, listens on loopback, and forwards every
// connection to one upstream (a node's P2P address) through the toxics
// added to it: latency, tiny TCP segments, a bandwidth limit, a reset, a
// stall. No toxiproxy server or API is involved.
type FaultProxy struct {
	proxy *toxiproxy.Proxy
	mu    sync.Mutex
	n     int
	once  sync.Once
}

// Directions of a toxic, as toxiproxy names them.
const (
	// Upstream is client → node.
	Upstream = "upstream"
	// Downstream is node → client (toxiproxy's default).
	Downstream = "downstream"
)

// Toxic is one toxiproxy toxic: its type, the direction it acts on, and
// its attributes (see toxiproxy's README for each type's).
type Toxic struct {
	Type       string
	Stream     string
	Attributes map[string]any
}

// Latency delays data by d (± jitter) in the toxic's direction.
func Latency(d, jitter time.Duration) Toxic {
	return Toxic{Type: "latency", Stream: Downstream,
		Attributes: map[string]any{"latency": d.Milliseconds(), "jitter": jitter.Milliseconds()}}
}

// Slicer cuts data into segments of about size bytes (± variation),
// waiting delay between them: a peer whose frames arrive in pieces.
func Slicer(size, variation int, delay time.Duration) Toxic {
	return Toxic{Type: "slicer", Stream: Downstream,
		Attributes: map[string]any{"average_size": size, "size_variation": variation, "delay": delay.Microseconds()}}
}

// Bandwidth limits the rate to kbps kilobytes per second.
func Bandwidth(kbps int64) Toxic {
	return Toxic{Type: "bandwidth", Stream: Downstream, Attributes: map[string]any{"rate": kbps}}
}

// ResetPeer resets both connections (TCP RST) after seeing the first data
// in the toxic's direction, once after has passed.
func ResetPeer(after time.Duration) Toxic {
	return Toxic{Type: "reset_peer", Stream: Downstream, Attributes: map[string]any{"timeout": after.Milliseconds()}}
}

// Stall drops all data in the toxic's direction and closes the connection
// after has passed; zero never closes it (toxiproxy's "timeout" toxic).
func Stall(after time.Duration) Toxic {
	return Toxic{Type: "timeout", Stream: Downstream, Attributes: map[string]any{"timeout": after.Milliseconds()}}
}

// On returns the toxic acting on stream (Upstream or Downstream).
func (t Toxic) On(stream string) Toxic { t.Stream = stream; return t }

// StartFaultProxy starts a proxy on 127.0.0.1 (an ephemeral port) in front
// of upstream. It forwards faithfully until toxics are added. Close it when
// done.
func StartFaultProxy(upstream string) (*FaultProxy, error) {
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "btc-handshake-fault", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("fault proxy to %s: %w", upstream, err)
	}
	return &FaultProxy{proxy: p}, nil
}

// Addr is where clients connect: host:port on loopback.
func (f *FaultProxy) Addr() string { return f.proxy.Listen }

// Upstream is the address the proxy forwards to.
func (f *FaultProxy) Upstream() string { return f.proxy.Upstream }

// Add adds a toxic; it acts on connections opened from then on and on
// those already open.
func (f *FaultProxy) Add(t Toxic) error {
	if t.Type == "" {
		return errors.New("fault proxy: toxic without a type")
	}
	f.mu.Lock()
	f.n++
	name := fmt.Sprintf("%s_%s_%d", t.Type, t.Stream, f.n)
	f.mu.Unlock()
	body, err := json.Marshal(map[string]any{
		"name": name, "type": t.Type, "stream": t.Stream, "toxicity": 1.0, "attributes": t.Attributes,
	})
	if err != nil {
		return err
	}
	if _, err := f.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("fault proxy: add %s toxic: %w", t.Type, err)
	}
	return nil
}

// Close removes the toxics, then stops the proxy and closes every
// connection through it. It is safe to call more than once.
//
// The toxics go first: a toxic still holding data when Stop closes its
// connection blocks its goroutine for good (toxiproxy v2.5.0 sends to the
// link's writer without a way out), while a toxic interrupted first hands
// its data on and ends.
func (f *FaultProxy) Close() error {
	f.once.Do(func() {
		f.proxy.Toxics.ResetToxics(context.Background())
		f.proxy.Stop()
	})
	return nil
}
