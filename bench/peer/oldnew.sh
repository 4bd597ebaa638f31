#!/bin/bash
# Old against new: `netrecon apply` built at BASE and at the work tree, on the
# first N devices of the running lab (lab/lab.sh up N), alternating, ROUNDS
# times each, with the bare loop beside them as the floor. The same change as
# run.sh (peerloop prepare: 10 interfaces per device), the devices reset and
# checked empty before each apply, a fresh state folder each time, CPU of the
# whole process tree (peertime). For when the machine is too busy for
# run.sh's Ansible rounds to mean anything: it compares two netrecons, it
# does not measure Ansible.
#
#   bash bench/peer/oldnew.sh BASE N [ROUNDS]
#
# Prints one line per apply and, per binary, the median wall and CPU.
set -euo pipefail
base=${1:?usage: oldnew.sh BASE N [ROUNDS]}
n=${2:?usage: oldnew.sh BASE N [ROUNDS]}
rounds=${3:-3}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
export NETRECON_LAB=${NETRECON_LAB:-$root/lab/.run/lab.json}
[ -f "$NETRECON_LAB" ] || { echo "no lab at $NETRECON_LAB: bash lab/lab.sh up $n" >&2; exit 1; }
kh=$(jq -r .knownHosts "$NETRECON_LAB")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base-src"
git -C "$root" archive "$base" | tar -x -C "$work/base-src"
(cd "$work/base-src" && go build -o "$work/old" ./cmd/netrecon)
(cd "$root" && go build -o "$work/new" ./cmd/netrecon && go build -o "$work/peerloop" ./bench/cmd/peerloop &&
	go build -o "$work/peertime" ./bench/cmd/peertime)
loop() { "$work/peerloop" -n "$n" -retries 3 "$@"; }
loop prepare "$work" >/dev/null

run() {
	local name=$1 status=0
	loop reset >/dev/null
	loop verify | grep -q ', 0 interfaces found,' || { echo "$name: the reset left interfaces behind" >&2; exit 1; }
	rm -rf "$work/state"
	local cmd
	case $name in
	bare) cmd=("$work/peerloop" -n "$n" -concurrency 10 -settle-after-hello 100ms loop) ;;
	*) cmd=("$work/$name" apply "$work/intent" --auto-approve --state "$work/state" --known-hosts "$kh"
		--settle-after-hello 100ms --concurrency 10) ;;
	esac
	"$work/peertime" -o "$work/time" -- "${cmd[@]}" >"$work/$name.out" 2>&1 || status=$?
	local changed w u s rss
	changed=$(loop verify 2>/dev/null | sed -n 's/.*, \([0-9]*\) devices with all 10$/\1/p')
	read -r w u s rss _ <"$work/time"
	printf '%-4s %3d devices  wall %6.2f s  cpu %5.2f s  rss %4d MiB  changed %s/%d  exit %d  load %s\n' \
		"$name" "$n" "$w" "$(echo "$u + $s" | bc)" $((rss / 1024)) "${changed:-0}" "$n" "$status" "$(cut -d' ' -f1 /proc/loadavg)"
	echo "$name $w $(echo "$u + $s" | bc)" >>"$work/all"
}

echo "netrecon apply old ($base) vs new ($(git -C "$root" rev-parse --short HEAD)), $n lab devices, $(date -u '+%F %T UTC'), $(nproc) cores"
for _ in $(seq 1 "$rounds"); do
	for name in old new bare; do
		run "$name"
	done
done
# median NAME COLUMN: the median of one column of NAME's runs.
median() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/all" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for name in old new bare; do
	printf 'median %-4s wall %6.2f s  cpu %5.2f s\n' "$name" "$(median "$name" 2)" "$(median "$name" 3)"
done
loop reset >/dev/null
