package snmp

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// DefaultMaxRepetitions is how many rows of each column one GETBULK asks
// for when Table is given 0: enough for a PE's interface table in a few
// requests, small enough that the answer fits one UDP datagram.
const DefaultMaxRepetitions = 25

// maxTableRequests bounds one Table: an agent whose answers never leave the
// columns (a loop) must not keep a poller busy for ever.
const maxTableRequests = 10000

// TableResult is what one Table read.
type TableResult struct {
	// Scalars are the scalar objects asked for, by the OID asked.
	Scalars map[string]Value
	// Rows maps a row's index (the OID arcs after the column, "4" for
	// ifIndex 4) to its values by column OID.
	Rows map[string]map[string]Value
	// Requests is the number of GETBULK requests sent (retries of a lost
	// request not counted).
	Requests int
}

// Table reads the columns of a conceptual table (such as ifXTable's
// ifName, ifHCInOctets and ifHCOutOctets) and, in the same first request,
// the scalar objects scalars (such as hrSystemNumUsers.0), with SNMPv2c
// GETBULK ([RFC3416 4.2.3]). Every request asks for the next maxRepetitions
// rows of every column not yet done, so a table of R rows costs
// ceil(R/maxRepetitions) requests whatever the number of columns; 0 means
// DefaultMaxRepetitions. OIDs are numeric; a scalar is its instance
// (".1.3.6.1.2.1.25.1.5.0").
//
// [RFC3416 4.2.3]: https://www.rfc-editor.org/rfc/rfc3416#section-4.2.3
func (c *Client) Table(ctx context.Context, target string, scalars, columns []string, maxRepetitions int) (TableResult, error) {
	if maxRepetitions <= 0 {
		maxRepetitions = DefaultMaxRepetitions
	}
	if len(scalars) > 20 || len(columns) == 0 || len(columns) > 20 {
		return TableResult{}, fmt.Errorf("snmp table from %s: want 1 to 20 columns and at most 20 scalars", target)
	}
	var err error
	for i := range scalars {
		if scalars[i], err = ParseOID(scalars[i]); err != nil {
			return TableResult{}, err
		}
	}
	cols := make([]string, len(columns))
	for i := range columns {
		if cols[i], err = ParseOID(columns[i]); err != nil {
			return TableResult{}, err
		}
	}
	host, port, err := splitTarget(target)
	if err != nil {
		return TableResult{}, err
	}
	g := &gosnmp.GoSNMP{
		Target: host, Port: port, Transport: "udp", Community: c.opts.Community, Version: gosnmp.Version2c,
		Context: ctx, Timeout: c.opts.Timeout, Retries: c.opts.Retries, ExponentialTimeout: false,
		MaxOids: len(scalars) + len(cols),
	}
	if err := g.Connect(); err != nil {
		return TableResult{}, fmt.Errorf("snmp table from %s: %w", target, err)
	}
	conn := g.Conn
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()

	out := TableResult{Scalars: map[string]Value{}, Rows: map[string]map[string]Value{}}
	cursor := make(map[string]string, len(cols)) // column → the last OID read of it
	active := append([]string(nil), cols...)
	for _, col := range cols {
		cursor[col] = col
	}
	start := time.Now()
	for len(active) > 0 {
		if out.Requests >= maxTableRequests {
			return out, fmt.Errorf("snmp table from %s: more than %d requests; the agent's answers do not leave the table", target, maxTableRequests)
		}
		var oids []string
		nonRep := 0
		if out.Requests == 0 {
			// GETBULK's non-repeaters answer like GETNEXT: ask for the
			// object, get its instance .0.
			for _, s := range scalars {
				oids = append(oids, s[:strings.LastIndexByte(s, '.')])
			}
			nonRep = len(scalars)
		}
		for _, col := range active {
			oids = append(oids, cursor[col])
		}
		out.Requests++
		pkt, err := g.GetBulk(oids, uint8(nonRep), uint32(maxRepetitions))
		if err != nil {
			return out, c.classify(ctx, target, cols[0], err, 1, time.Since(start))
		}
		if pkt.Error != gosnmp.NoError {
			return out, &AgentError{Target: target, OID: oids[int(pkt.ErrorIndex)%len(oids)], Status: pkt.Error.String(), Index: int(pkt.ErrorIndex)}
		}
		vars := pkt.Variables
		if len(vars) < nonRep {
			return out, fmt.Errorf("snmp table from %s: %d values for %d scalars", target, len(vars), nonRep)
		}
		var missed []string
		for i, s := range scalars[:nonRep] {
			vb := vars[i]
			name, _ := ParseOID(vb.Name)
			if name != s {
				// The object has another instance before this one (a
				// table cell, not a scalar): GET it on its own.
				missed = append(missed, s)
				continue
			}
			out.Scalars[s] = newValue(vb)
		}
		for _, s := range missed {
			out.Requests++
			pkt, err := g.Get([]string{s})
			if err != nil {
				return out, c.classify(ctx, target, s, err, 1, time.Since(start))
			}
			v, err := result(target, s, pkt)
			if err != nil {
				return out, err
			}
			out.Scalars[s] = v
		}
		done := map[string]bool{}
		for i, vb := range vars[nonRep:] {
			col := active[i%len(active)]
			if done[col] {
				continue
			}
			name, _ := ParseOID(vb.Name)
			if vb.Type == gosnmp.EndOfMibView || !strings.HasPrefix(name, col+".") || !oidAfter(name, cursor[col]) {
				done[col] = true
				continue
			}
			idx := name[len(col)+1:]
			row := out.Rows[idx]
			if row == nil {
				row = map[string]Value{}
				out.Rows[idx] = row
			}
			row[col] = newValue(vb)
			cursor[col] = name
		}
		if len(vars) == nonRep {
			break // an agent that answers nothing more: nothing left to read
		}
		next := active[:0]
		for _, col := range active {
			if !done[col] {
				next = append(next, col)
			}
		}
		active = next
	}
	c.log.DebugContext(ctx, "snmp table", "target", target, "columns", len(cols), "rows", len(out.Rows), "requests", out.Requests, "took_seconds", time.Since(start).Seconds())
	return out, nil
}

// oidAfter reports whether a comes after b in the OID order (arc by arc,
// numerically): an agent must answer GETNEXT with a later OID.
func oidAfter(a, b string) bool {
	as, bs := strings.Split(strings.TrimPrefix(a, "."), "."), strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		if len(as[i]) != len(bs[i]) {
			return len(as[i]) > len(bs[i])
		}
		return as[i] > bs[i]
	}
	return len(as) > len(bs)
}

// Uint returns a numeric value as an unsigned number: a Counter64 such as
// ifHCInOctets uses all 64 bits.
func (v Value) Uint() (uint64, error) {
	if v.num == nil {
		return 0, &TypeError{OID: v.OID, Type: v.Type, Want: "a number"}
	}
	if v.num.Sign() < 0 || v.num.Cmp(new(big.Int).SetUint64(^uint64(0))) > 0 {
		return 0, fmt.Errorf("snmp: %s: %s %s does not fit in uint64", v.OID, v.Type, v.num)
	}
	return v.num.Uint64(), nil
}
