package snmp

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/gosnmp/gosnmp"
)

// Value is the value of one OID as the agent sent it.
type Value struct {
	OID  string // numeric, with a leading dot
	Type string // SNMP type: "OctetString", "Gauge32", "Integer", "Counter32", "Counter64", "TimeTicks", ...

	num   *big.Int // numeric types
	bytes []byte   // OctetString
	other any      // anything else, for String
}

// newValue converts gosnmp's variable binding; the caller has already turned
// the exceptions (noSuchObject, ...) into errors.
func newValue(pdu gosnmp.SnmpPDU) Value {
	v := Value{OID: pdu.Name, Type: pdu.Type.String()}
	switch pdu.Type {
	case gosnmp.Integer, gosnmp.Gauge32, gosnmp.Counter32, gosnmp.Counter64, gosnmp.TimeTicks, gosnmp.Uinteger32:
		v.num = gosnmp.ToBigInt(pdu.Value)
	case gosnmp.OctetString:
		b, _ := pdu.Value.([]byte)
		v.bytes = append([]byte(nil), b...)
	default:
		v.other = pdu.Value
	}
	return v
}

// IsInt reports whether the value is a number (Integer, Gauge32, Counter32,
// Counter64, TimeTicks, Unsigned32).
func (v Value) IsInt() bool { return v.num != nil }

// IsText reports whether the value is an OctetString.
func (v Value) IsText() bool { return v.Type == gosnmp.OctetString.String() }

// Int returns a numeric value. A Counter64 above math.MaxInt64 is an error
// rather than a wrapped negative number.
func (v Value) Int() (int64, error) {
	if v.num == nil {
		return 0, &TypeError{OID: v.OID, Type: v.Type, Want: "a number"}
	}
	if !v.num.IsInt64() {
		return 0, fmt.Errorf("snmp: %s: %s %s does not fit in int64 (max %d)", v.OID, v.Type, v.num, int64(math.MaxInt64))
	}
	return v.num.Int64(), nil
}

// String returns an OctetString's content as it is (agents pad with spaces
// or newlines: trim if that matters), a number in decimal, or a Go rendering
// of any other type.
func (v Value) String() string {
	switch {
	case v.num != nil:
		return v.num.String()
	case v.IsText():
		return string(v.bytes)
	case v.other == nil:
		return ""
	default:
		return fmt.Sprint(v.other)
	}
}

// Bytes returns an OctetString's raw content, or a TypeError.
func (v Value) Bytes() ([]byte, error) {
	if !v.IsText() {
		return nil, &TypeError{OID: v.OID, Type: v.Type, Want: "OctetString"}
	}
	return append([]byte(nil), v.bytes...), nil
}

// GoString shows the type along with the value, for test failures.
func (v Value) GoString() string {
	return fmt.Sprintf("snmp.Value{%s %s %s}", v.OID, v.Type, strconv.Quote(v.String()))
}
