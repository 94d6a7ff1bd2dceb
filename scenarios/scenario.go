package scenarios

import (
	"slices"
	"strings"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

// Scenario is one entry of the catalog.
type Scenario struct {
	// Name is a stable kebab-case identifier.
	Name string
	// Summary says in one line what the peer does.
	Summary string
	// Origin is where the behaviour comes from: a line of the original
	// tool's log of real peers, a Bitcoin Core source file, an observed
	// implementation.
	Origin string
	// Script is what the mock does on each connection.
	Script mockpeer.Script
	// Expect is the verdict a correct client reaches.
	Expect Verdict
	// Tags group scenarios: "log" (seen in the original log), "core"
	// (Core behaviour), "malformed", "transport", "timing", "v2".
	Tags []string
	// Transport is the transport the client is told to use against this
	// scenario (check's {transport}): "v1" (also when empty), "v2" or
	// "auto" (v2 with Core's fallback to v1).
	Transport string
}

// TransportOf is the scenario's client transport: "v1", "v2" or "auto".
func (s Scenario) TransportOf() string {
	if s.Transport == "" {
		return "v1"
	}
	return s.Transport
}

// HasTag reports whether the scenario carries tag.
func (s Scenario) HasTag(tag string) bool { return slices.Contains(s.Tags, tag) }

// Catalog is a list of scenarios or of probes, in a stable order, with
// lookups by name and by transport. Each call of All or Probes builds
// fresh values, so callers may change them.
type Catalog[T Scenario | Probe] []T

// All returns every client scenario: the v1 catalog (what a client that
// speaks the original transport is judged on), then the v2 and auto ones.
// All().Transport("v1") is the v1 catalog.
func All() Catalog[Scenario] { return append(catalog(), v2Catalog()...) }

// Probes returns every probe: the v1 probes (PROTOCOL.md §5), then the v2
// ones (a BIP324 client). Model.Probes gives those conform runs for a model.
func Probes() Catalog[Probe] {
	v2 := v2ProbeCatalog()
	for i := range v2 {
		v2[i].Transport = transportV2
	}
	return append(probeCatalog(), v2...)
}

// TransportOf is the probe's transport: "v1" or "v2".
func (p Probe) TransportOf() string {
	if p.Transport == "" {
		return "v1"
	}
	return p.Transport
}

// nameOf and transportOf read the fields that scenarios and probes share.
func nameOf[T Scenario | Probe](t T) string {
	switch v := any(t).(type) {
	case Scenario:
		return v.Name
	case Probe:
		return v.Name
	}
	return ""
}

func transportOf[T Scenario | Probe](t T) string {
	switch v := any(t).(type) {
	case Scenario:
		return v.TransportOf()
	case Probe:
		return v.TransportOf()
	}
	return ""
}

// Transport returns the entries whose transport is t: "v1", "v2" or (for
// scenarios) "auto"; "all" returns them all. Another t selects none.
func (c Catalog[T]) Transport(t string) Catalog[T] {
	if t == "all" {
		return c
	}
	var out Catalog[T]
	for _, e := range c {
		if transportOf(e) == t {
			out = append(out, e)
		}
	}
	return out
}

// Names returns the names of the entries, in order.
func (c Catalog[T]) Names() []string {
	names := make([]string, len(c))
	for i, e := range c {
		names[i] = nameOf(e)
	}
	return names
}

// Get returns the entry with this name.
func (c Catalog[T]) Get(name string) (T, bool) {
	for _, e := range c {
		if nameOf(e) == name {
			return e, true
		}
	}
	var zero T
	return zero, false
}

// Select returns the entries named, in the order given, and the names
// that matched none, so that a typo is an error rather than a smaller run.
// No names selects the whole catalog.
func (c Catalog[T]) Select(names ...string) (Catalog[T], []string) {
	if len(names) == 0 {
		return c, nil
	}
	var out Catalog[T]
	var unknown []string
	for _, n := range names {
		e, ok := c.Get(strings.TrimSpace(n))
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		out = append(out, e)
	}
	return out, unknown
}
