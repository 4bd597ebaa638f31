#!/usr/bin/env bash
# test-all.sh — netrecon's whole test suite, with the real peers it needs.
#
# `make test` and .ci/run both run this, so a developer runs what CI runs. It
# installs and starts the lab (yuma123 netconfd behind OpenSSH, net-snmp; needs
# root for apt-get), then: build, vet, gofmt, every test with the race detector,
# a short fuzz run of every fuzz target, and lint of the GitHub workflows.
# It stops the lab it started, and exits non-zero when anything fails.
#
# FUZZTIME (default 20000x) sets how much each fuzz target runs. A count, not a
# duration: on Go 1.26 a duration can fail a target with "context deadline
# exceeded" when it expires mid-run (a race in Go's fuzz coordinator,
# golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
set -euo pipefail

top=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
fuzztime=${FUZZTIME:-20000x}

step() { printf '\n== %s\n' "$*"; }

# artifacts says where the tests' screenshots are, and lists them.
artifacts() {
	step "artifacts"
	echo "screenshots and other artifacts: $NETRECON_ARTIFACTS"
	if [ -d "$NETRECON_ARTIFACTS" ]; then
		ls -l "$NETRECON_ARTIFACTS"
	fi
}

step "lab: install and start real NETCONF and SNMP servers"
bash lab/lab.sh install
# What tests leave for people to look at (the status page's screenshots),
# listed at the end whether the suite passed or not.
export NETRECON_ARTIFACTS="${NETRECON_ARTIFACTS:-$top/.ci/out}"
bash lab/lab.sh up 5
trap 'artifacts; bash lab/lab.sh down' EXIT
export NETRECON_LAB="$top/lab/.run/lab.json"

step "build, vet, gofmt"
go build ./...
go vet ./...
mapfile -t gofiles < <(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './lab/.run/*')
unformatted=$(gofmt -l "${gofiles[@]}")
if [ -n "$unformatted" ]; then
	printf 'gofmt would change:\n%s\n' "$unformatted"
	exit 1
fi

step "tests (race detector on)"
go test -race -count=1 -timeout 30m ./...

step "fuzz: each target for $fuzztime"
# Every Fuzz function of the tree, found by name so a new one is never left out.
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sort | while read -r file; do
	pkg=./$(dirname "${file#./}")
	grep -oE '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //' | while read -r target; do
		echo "fuzz $pkg $target"
		if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
			# The failing input is saved under the package's testdata/fuzz/;
			# commit it with the fix, as a regression case.
			printf '%s\n' "$out"
			exit 1
		fi
	done
done

step "lint workflows and scripts"
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 .github/workflows/*.yml intent-example/.github/workflows/*.yml
if command -v shellcheck >/dev/null; then
	shellcheck .github/scripts/*.sh lab/*.sh bench/*/*.sh .ci/run
fi

step "all checks passed"
