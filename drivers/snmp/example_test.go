package snmp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/netrecon/netrecon/drivers/snmp"
)

// Read hrSystemNumUsers (HOST-RESOURCES-MIB) from a router, telling a silent
// agent apart from a missing object.
func ExampleClient_Get() {
	c, err := snmp.New(snmp.Options{Community: "from-a-secret-store", Timeout: time.Second, Retries: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := c.Get(context.Background(), "192.0.2.1:161", ".1.3.6.1.2.1.25.1.5.0")
	var timeout *snmp.TimeoutError
	var missing *snmp.NoSuchError
	switch {
	case errors.As(err, &timeout):
		fmt.Println("no answer (down, filtered, or a wrong community):", err)
	case errors.As(err, &missing):
		fmt.Println("the agent does not have it:", missing.Kind)
	case err != nil:
		fmt.Println(err)
	default:
		n, err := v.Int()
		fmt.Println(n, err)
	}
}
