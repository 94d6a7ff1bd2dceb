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
	// (Core behaviour), "malformed", "transport", "timing".
	Tags []string
}

// HasTag reports whether the scenario carries tag.
func (s Scenario) HasTag(tag string) bool { return slices.Contains(s.Tags, tag) }

// All returns the client catalog, in a stable order. Each call builds
// fresh values, so callers may change them.
func All() []Scenario { return catalog() }

// Names returns the names of All, in order.
func Names() []string {
	var names []string
	for _, s := range All() {
		names = append(names, s.Name)
	}
	return names
}

// Get returns the scenario with this name.
func Get(name string) (Scenario, bool) {
	for _, s := range All() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Select returns the scenarios named, in the order given, and the names
// that matched none. No names selects All.
func Select(names ...string) ([]Scenario, []string) {
	if len(names) == 0 {
		return All(), nil
	}
	all := All()
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
