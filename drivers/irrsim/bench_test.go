package irrsim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// bigSeed is a registry of sets customers asets, each with asns AS numbers of
// routes prefixes each, all in AS-BIG.
func bigSeed(sets, asns, routes int) string {
	var b strings.Builder
	b.WriteString("as-set: AS-BIG\nmembers: ")
	for i := range sets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "AS-C%d", i)
	}
	b.WriteString("\nsource: JPIRR\n\n")
	n := 0
	for i := range sets {
		fmt.Fprintf(&b, "as-set: AS-C%d\nmembers: AS-BIG", i)
		for j := range asns {
			fmt.Fprintf(&b, ", AS%d", 131072+i*asns+j)
		}
		b.WriteString("\nsource: JPIRR\n\n")
		for j := range asns {
			for k := range routes {
				fmt.Fprintf(&b, "route: 10.%d.%d.0/24\norigin: AS%d\nsource: JPIRR\n\n", n/256, n%256, 131072+i*asns+j)
				_ = k
				n++
			}
		}
	}
	return b.String()
}

// BenchmarkWhoisExpandSession is one bgpq4-style session against a registry
// of 100 customer sets, 1,000 AS numbers and 5,000 routes: !!, !iAS-BIG,1,
// then !g for every AS number.
func BenchmarkWhoisExpandSession(b *testing.B) {
	s := startSim(b, Options{Logger: slogDiscard(), Databases: []DatabaseOptions{{Name: "JPIRR", Seed: bigSeed(100, 10, 5)}}})
	addr := s.DB("JPIRR").WhoisAddr()
	b.ResetTimer()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(c)
		io.WriteString(c, "!!\n!iAS-BIG,1\n")
		asns := strings.Fields(readAnswer(b, r))
		if len(asns) != 1000 {
			b.Fatalf("%d AS numbers", len(asns))
		}
		for _, a := range asns {
			io.WriteString(c, "!g"+a+"\n")
			if got := strings.Fields(readAnswer(b, r)); len(got) != 5 {
				b.Fatalf("%s: %d prefixes", a, len(got))
			}
		}
		c.Close()
	}
}

func readAnswer(b *testing.B, r *bufio.Reader) string {
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "A") {
		b.Fatalf("answer %q: %v", line, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	data := make([]byte, n)
	io.ReadFull(r, data)
	r.ReadString('\n')
	return string(data)
}
