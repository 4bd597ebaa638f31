package rpsl_test

import (
	"fmt"

	"github.com/netrecon/netrecon/rpsl"
)

// Read an as-set as the registry has it, change only its members, print it.
func Example() {
	o, err := rpsl.ParseOne("as-set: AS-NETRECON-CUSTOMERS\nmembers: AS64501\nmnt-by: MAINT-NETRECON\nsource: JPIRR\n")
	if err != nil {
		fmt.Println(err)
		return
	}
	o.Set("members", "AS-ACME, AS64501")
	fmt.Print(rpsl.Format(o))
	// Output:
	// as-set:         AS-NETRECON-CUSTOMERS
	// members:        AS-ACME, AS64501
	// mnt-by:         MAINT-NETRECON
	// source:         JPIRR
}
