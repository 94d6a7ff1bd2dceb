package scenarios_test

import (
	"fmt"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Each scenario of the catalog is a mock peer's script and the verdict a
// correct client reaches against it; harness runs them.
func ExampleCatalog_Get() {
	sc, ok := scenarios.All().Get("wrong-magic")
	if !ok {
		fmt.Println("not in the catalog")
		return
	}
	fmt.Println(sc.Name, "expects", sc.Expect)
	// Output: wrong-magic expects fail bad-magic@version
}

// Select picks scenarios by name and returns the names it does not know,
// so a typo is an error rather than a smaller run.
func ExampleCatalog_Select() {
	scs, unknown := scenarios.All().Select("wrong-magic", "no-such-peer")
	fmt.Println(len(scs), unknown)
	// Output: 1 [no-such-peer]
}

// Transport keeps the scenarios that ask the client for one transport:
// a client that speaks only the original protocol is judged on the v1
// ones.
func ExampleCatalog_Transport() {
	v1 := scenarios.All().Transport("v1")
	fmt.Println(v1[0].Name, v1[0].TransportOf())
	// Output: version-verack-coalesced v1
}

// The probes judge a node against a model of what Bitcoin Core or btcd
// does; a model that speaks BIP324 gets the v2 probes too.
func ExampleModel_Probes() {
	p, _ := scenarios.ModelCore.Probes().Get("ping-before-verack")
	exp, _ := p.ExpectFor(scenarios.ModelCore)
	fmt.Println(p.Name, "core:", exp)
	fmt.Println(len(scenarios.ModelBtcdV2.Probes()) > len(scenarios.ModelBtcd.Probes()))
	// Output:
	// ping-before-verack core: nothing → open
	// true
}
