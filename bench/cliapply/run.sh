#!/bin/bash
# Side by side: `netrecon apply` built at BASE and at the work tree, on the
# first N devices of the running lab (lab/lab.sh up N), ROUNDS times each.
# Each apply changes 10 interfaces per device: it creates 10 attachment
# circuits per device, the next apply of the same binary removes them.
# Prints wall, user+system CPU and peak RSS per apply (GNU time), and the
# sessions each apply opened per device (netconfd numbers sessions in order).
#
#   bash bench/cliapply/run.sh 945cd91 10 3
#
# On demand, not in CI: it needs the lab, and the machine to itself for
# figures that mean something.
set -euo pipefail
base=${1:?usage: run.sh BASE_REV N [ROUNDS]}
n=${2:?usage: run.sh BASE_REV N [ROUNDS]}
rounds=${3:-2}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
lab=${NETRECON_LAB:-$root/lab/.run/lab.json}
[ -f "$lab" ] || { echo "no lab at $lab: bash lab/lab.sh up $n" >&2; exit 1; }
have=$(jq '.devices | length' "$lab")
[ "$have" -ge "$n" ] || { echo "the lab has $have devices, want $n" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base-src"
git -C "$root" archive "$base" | tar -x -C "$work/base-src"
(cd "$work/base-src" && go build -o "$work/netrecon-base" ./cmd/netrecon)
(cd "$root" && go build -o "$work/netrecon-head" ./cmd/netrecon)

user=$(jq -r .username "$lab")
key=$(jq -r .keyFile "$lab")
kh=$(jq -r .knownHosts "$lab")

# repo DIR on|off: the inventory of the first n devices, and with "on" 10
# circuits per device.
repo() {
	local dir=$1 mode=$2
	rm -rf "$dir/services"
	mkdir -p "$dir/inventory" "$dir/services/bench"
	{
		echo "apiVersion: netrecon.io/v1"
		echo "kind: Inventory"
		echo "devices:"
		jq -r --argjson n "$n" '.devices[:$n][] | "\(.name) \(.address) \(.port)"' "$lab" | while read -r name addr port; do
			printf '  - name: %s\n    platform: ietf\n    address: %s\n    port: %s\n    credentials:\n      username: %s\n      keyFile: %s\n' "$name" "$addr" "$port" "$user" "$key"
		done
	} >"$dir/inventory/lab.yaml"
	[ "$mode" = on ] || return 0
	local i=0
	jq -r --argjson n "$n" '.devices[:$n][] | .name' "$lab" | while read -r name; do
		for v in $(seq 1 10); do
			cat >"$dir/services/bench/$name-$v.yaml" <<YAML
apiVersion: netrecon.io/v1
kind: attachment-circuit
metadata: {name: bench-$name-$v, customer: bench}
spec:
  device: $name
  interface: ge-7/7/7
  vlan: $((3900 + v))
  description: bench circuit $v on $name
  ipv4: 100.$((100 + v)).$((i / 60)).$((1 + 4 * (i % 60)))/30
YAML
		done
		i=$((i + 1))
	done
}

# firstID is the session id a new session to the first device gets now.
# ssh's stdin stays open 3 s: netconf-subsystem quits at EOF, before it
# relays the server's hello (lab/lab.sh).
firstID() {
	sleep 3 | timeout 10 ssh -q -T -p "$(jq -r '.devices[0].port' "$lab")" -i "$key" -o BatchMode=yes \
		-o UserKnownHostsFile="$kh" -o StrictHostKeyChecking=yes \
		-s "$user@$(jq -r '.devices[0].address' "$lab")" netconf 2>/dev/null |
		sed -n 's:.*<session-id>\([0-9]*\)</session-id>.*:\1:p' | head -1
}

run() {
	local bin=$1 mode=$2 label=$3
	repo "$work/repo-$bin" "$mode"
	local before after
	before=$(firstID)
	/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$work/netrecon-$bin" apply "$work/repo-$bin" --auto-approve \
		--state "$work/state-$bin" --known-hosts "$kh" --settle-after-hello 100ms --concurrency 10 >"$work/out" 2>&1 ||
		{ echo "$label failed:"; tail -20 "$work/out"; exit 1; }
	after=$(firstID)
	read -r wall usr sys rss <"$work/time"
	printf '%-6s %-4s %3d devices  wall %6.2f s  cpu %5.2f s  rss %4d MiB  sessions on %s: %s\n' \
		"$label" "$mode" "$n" "$wall" "$(echo "$usr + $sys" | bc)" $((rss / 1024)) "$(jq -r '.devices[0].name' "$lab")" \
		"$(if [ -n "$before" ] && [ -n "$after" ]; then echo $((after - before - 1)); else echo "?"; fi)"
}

echo "netrecon apply, $n lab devices, 10 interfaces each; base $base vs work tree $(git -C "$root" rev-parse --short HEAD); load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$rounds"); do
	for bin in base head; do
		run "$bin" on "$bin"
		run "$bin" off "$bin"
	done
done
