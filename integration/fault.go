package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// FaultProxy is an embedded toxiproxy (github.com/Shopify/toxiproxy/v2)
// that runs in the test process, listens on loopback, and forwards every
// connection to one upstream (a node's P2P address) through the faults
// added to it: delay, tiny TCP segments, a bandwidth limit, a reset, a
// stall. No toxiproxy server or API is involved.
//
// A fault acts on one direction of the traffic. The proxy StartFaultProxy
// returns adds faults to what the node sends the client (toxiproxy's
// "downstream"); ToNode returns the same proxy adding them to what the
// client sends the node ("upstream"), and ToClient the other way again:
//
//	p.ToNode().Stall(0)              // our version never reaches the node
//	p.Delay(150*time.Millisecond, 0) // the node's answer comes late
//
// A fault added acts on connections opened from then on and on those
// already open.
type FaultProxy struct {
	*faultProxy
	stream string // "upstream" (client → node) or "downstream"
}

// faultProxy is the proxy behind both directions of a FaultProxy.
type faultProxy struct {
	proxy *toxiproxy.Proxy
	mu    sync.Mutex
	n     int
	once  sync.Once
}

// StartFaultProxy starts a proxy on 127.0.0.1 (an ephemeral port) in front
// of upstream. It forwards faithfully until faults are added. Close it when
// done.
func StartFaultProxy(upstream string) (*FaultProxy, error) {
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "btc-handshake-fault", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("fault proxy to %s: %w", upstream, err)
	}
	return &FaultProxy{faultProxy: &faultProxy{proxy: p}, stream: "downstream"}, nil
}

// Addr is where clients connect: host:port on loopback.
func (f *FaultProxy) Addr() string { return f.proxy.Listen }

// Upstream is the address the proxy forwards to.
func (f *FaultProxy) Upstream() string { return f.proxy.Upstream }

// ToNode returns the same proxy, whose fault methods act on what the client
// sends the node.
func (f *FaultProxy) ToNode() *FaultProxy {
	return &FaultProxy{faultProxy: f.faultProxy, stream: "upstream"}
}

// ToClient returns the same proxy, whose fault methods act on what the node
// sends the client (the direction of the proxy StartFaultProxy returns).
func (f *FaultProxy) ToClient() *FaultProxy {
	return &FaultProxy{faultProxy: f.faultProxy, stream: "downstream"}
}

// Delay delays data by d (± jitter): toxiproxy's latency toxic.
func (f *FaultProxy) Delay(d, jitter time.Duration) error {
	return f.add("latency", map[string]any{"latency": d.Milliseconds(), "jitter": jitter.Milliseconds()})
}

// Slice cuts data into segments of about size bytes (± variation), waiting
// delay between them: a peer whose frames arrive in pieces (toxiproxy's
// slicer toxic).
func (f *FaultProxy) Slice(size, variation int, delay time.Duration) error {
	return f.add("slicer", map[string]any{"average_size": size, "size_variation": variation, "delay": delay.Microseconds()})
}

// Throttle limits the rate to kbps kilobytes per second (toxiproxy's
// bandwidth toxic).
func (f *FaultProxy) Throttle(kbps int64) error {
	return f.add("bandwidth", map[string]any{"rate": kbps})
}

// Reset resets both connections (TCP RST) after seeing the first data in
// this direction, once after has passed (toxiproxy's reset_peer toxic).
func (f *FaultProxy) Reset(after time.Duration) error {
	return f.add("reset_peer", map[string]any{"timeout": after.Milliseconds()})
}

// Stall drops all data in this direction and closes the connection after
// has passed; zero never closes it (toxiproxy's timeout toxic).
func (f *FaultProxy) Stall(after time.Duration) error {
	return f.add("timeout", map[string]any{"timeout": after.Milliseconds()})
}

// add adds a toxic of type typ with attributes attrs on f's direction.
func (f *FaultProxy) add(typ string, attrs map[string]any) error {
	f.mu.Lock()
	f.n++
	name := fmt.Sprintf("%s_%s_%d", typ, f.stream, f.n)
	f.mu.Unlock()
	body, err := json.Marshal(map[string]any{
		"name": name, "type": typ, "stream": f.stream, "toxicity": 1.0, "attributes": attrs,
	})
	if err != nil {
		return err
	}
	if _, err := f.proxy.Toxics.AddToxicJson(bytes.NewReader(body)); err != nil {
		return fmt.Errorf("fault proxy: add %s toxic: %w", typ, err)
	}
	return nil
}

// Close removes the faults, then stops the proxy and closes every
// connection through it, in both directions. It is safe to call more than
// once, on either direction.
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
