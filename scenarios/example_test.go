package scenarios_test

import (
	"fmt"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Each scenario of the catalog is a mock peer's script and the verdict a
// correct client reaches against it; harness runs them.
func ExampleGet() {
	sc, ok := scenarios.Get("wrong-magic")
	if !ok {
		fmt.Println("not in the catalog")
		return
	}
	fmt.Println(sc.Name, "expects", sc.Expect)
	// Output: wrong-magic expects fail bad-magic@version
}

// Select picks scenarios by name and returns the names it does not know,
// so a typo is an error rather than a smaller run.
func ExampleSelect() {
	scs, unknown := scenarios.Select("wrong-magic", "no-such-peer")
	fmt.Println(len(scs), unknown)
	// Output: 1 [no-such-peer]
}
