package irrsim_test

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/netrecon/netrecon/drivers/irrsim"
)

// Start a registry seeded with an as-set and a route, and ask it as bgpq4
// does: the set's members, recursively, then the origin's prefixes.
func Example() {
	sim, err := irrsim.Start(context.Background(), irrsim.Options{Databases: []irrsim.DatabaseOptions{{
		Name: "JPIRR",
		Seed: "as-set: AS-ACME\nmembers: AS132001\nsource: JPIRR\n\n" +
			"route: 192.0.2.0/24\norigin: AS132001\nsource: JPIRR\n",
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	conn, err := net.Dial("tcp", sim.DB("JPIRR").WhoisAddr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Fprint(conn, "!!\n!iAS-ACME,1\n!gAS132001\n!q\n")
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		fmt.Println(sc.Text())
	}
	// Output:
	// A9
	// AS132001
	// C
	// A13
	// 192.0.2.0/24
	// C
}
