package scenarios

import (
	"slices"
	"strings"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

// Role is the side a scenario's mock plays.
type Role string

// Roles.
const (
	// RoleNode: the mock plays a node that a client connects to; the
	// verdict judges the client.
	RoleNode Role = "node"
	// RoleProbe: the mock plays a client connecting to a node; the
	// verdict judges the node (see Probe).
	RoleProbe Role = "probe"
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
	// Role is the side the mock plays (RoleNode for every client scenario).
	Role Role
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

// All returns the v1 client catalog, in a stable order: the scenarios a
// client speaking the original transport is judged on. ForTransport
// selects the v2 ones. Each call builds fresh values, so callers may
// change them.
func All() []Scenario { return catalog() }

// ForTransport returns the scenarios whose client transport is t ("v1",
// "v2" or "auto"), or every scenario for "all"; ok is false for another t.
func ForTransport(t string) (scs []Scenario, ok bool) {
	switch t {
	case "v1":
		return catalog(), true
	case "all":
		return append(catalog(), v2Catalog()...), true
	case "v2", "auto":
		for _, s := range v2Catalog() {
			if s.TransportOf() == t {
				scs = append(scs, s)
			}
		}
		return scs, true
	}
	return nil, false
}

// everything is every scenario, of every transport.
func everything() []Scenario { s, _ := ForTransport("all"); return s }

// Names returns the names of All, in order.
func Names() []string {
	var names []string
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return names
}

// Get returns the scenario with this name, of any transport.
func Get(name string) (Scenario, bool) {
	for _, s := range everything() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Select returns the scenarios named (of any transport), in the order
// given, and the names that matched none. No names selects All.
func Select(names ...string) ([]Scenario, []string) {
	if len(names) == 0 {
		return All(), nil
	}
	all := everything()
	var out []Scenario
	var unknown []string
	for _, n := range names {
		i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == strings.TrimSpace(n) })
		if i < 0 {
			unknown = append(unknown, n)
			continue
		}
		out = append(out, all[i])
	}
	return out, unknown
}
