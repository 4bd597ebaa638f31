#!/bin/bash
# The peer benchmark: the same change (10 interfaces per device) made on the
# same N lab devices by three tools, side by side in one run, the devices reset
# between tools:
#
#   netrecon  netrecon apply (the CLI, built from this tree), --auto-approve,
#             --settle-after-hello 100ms, --concurrency 10, a fresh state folder
#   bare      the floor: bench/cmd/peerloop on the project's own driver
#             (drivers/netconf): dial, lock, edit, commit, unlock, 10 in flight
#   ansible   ansible-playbook with ansible.netcommon.netconf_config (Debian
#             ansible + python3-ncclient), -f 10 up to 10 devices, -f 20 above
#
# For each: wall, CPU seconds (user+system of the whole process tree), peak RSS
# of the largest process and of the tree summed (bench/cmd/peertime), the
# sessions it opened on the first device, and how many devices really carry
# the change afterwards (running read back, the 10 interfaces counted). Then
# the ratios, and with several rounds their medians: one round moves by
# 10-20 % on a shared 2-core machine.
#
#   bash bench/peer/run.sh N [ROUNDS]
#
# It starts the lab with lab/lab.sh up N (ports from NETRECON_LAB_BASE_PORT and
# NETRECON_LAB_SNMP_PORT, as lab.sh reads them) and takes it down at the end.
# On demand, not in CI: the figures mean something only on a quiet machine.
set -euo pipefail
n=${1:?usage: run.sh N [ROUNDS]}
rounds=${2:-1}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
forks=10
[ "$n" -le 10 ] || forks=20

work=$(mktemp -d)
cleanup() {
	bash "$root/lab/lab.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/netrecon" ./cmd/netrecon && go build -o "$work/peerloop" ./bench/cmd/peerloop &&
	go build -o "$work/peertime" ./bench/cmd/peertime)
bash "$root/lab/lab.sh" up "$n" 2>&1 | tail -1
export NETRECON_LAB=$root/lab/.run/lab.json
kh=$(jq -r .knownHosts "$NETRECON_LAB")

# loop: the helpers around the measured runs (prepare, reset, verify,
# session-id), which retry a device the loaded lab drops.
loop() { "$work/peerloop" -n "$n" -retries 3 "$@"; }
loop prepare "$work"
# ncclient reads known_hosts from an ssh_config's UserKnownHostsFile: host
# keys are checked against the lab's, as netrecon and the bare loop check them.
printf 'Host *\n  UserKnownHostsFile %s\n' "$kh" >"$work/ansible/ssh_config"

# cmdline NAME: the command line of one tool, into the array cmd.
cmdline() {
	case $1 in
	netrecon)
		cmd=("$work/netrecon" apply "$work/intent" --auto-approve --state "$work/state" --known-hosts "$kh"
			--settle-after-hello 100ms --concurrency 10)
		;;
	bare) cmd=("$work/peerloop" -n "$n" -concurrency 10 -settle-after-hello 100ms loop) ;;
	ansible)
		cmd=(ansible-playbook -f "$forks" -i "$work/ansible/inventory.yaml" -e "xml_dir=$work/ansible/xml"
			"$root/bench/peer/playbook.yaml")
		;;
	esac
}

# lost NAME: sessions or devices the tool itself reported as lost or failed.
lost() {
	case $1 in
	netrecon) grep -c 'session lost' "$work/$1.out" || true ;;
	bare) sed -n 's/^loop: [0-9]* devices, \([0-9]*\) failed$/\1/p' "$work/$1.out" | tail -1 ;;
	ansible) awk '/ : ok=/ { for (i = 1; i <= NF; i++) if ($i ~ /^(unreachable|failed)=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' "$work/$1.out" ;;
	esac
}

declare -A wall cpu
measure() {
	local name=$1 before after status=0
	loop reset >/dev/null
	loop verify | grep -q ', 0 interfaces found,' || { echo "$name: the reset left interfaces behind" >&2; exit 1; }
	before=$(loop session-id)
	rm -rf "$work/state"
	local cmd
	cmdline "$name"
	ANSIBLE_NOCOLOR=1 "$work/peertime" -o "$work/time" -- "${cmd[@]}" >"$work/$name.out" 2>&1 || status=$?
	after=$(loop session-id)
	local verified
	verified=$(loop verify 2>/dev/null | sed -n 's/.*, \([0-9]*\) devices with all 10$/\1/p')
	local w u s rss tree
	read -r w u s rss tree <"$work/time"
	wall[$name]=$w
	cpu[$name]=$(echo "$u + $s" | bc)
	printf '%-8s %3d devices  wall %6.2f s  cpu %6.2f s  rss %4d MiB (tree %5d MiB)  sessions on lab1 %s  lost/failed %s  changed %s/%d  exit %d\n' \
		"$name" "$n" "$w" "${cpu[$name]}" $((rss / 1024)) $((tree / 1024)) $((after - before - 1)) "$(lost "$name")" "${verified:-0}" "$n" "$status"
	if [ "$status" -ne 0 ]; then
		tail -5 "$work/$name.out" | sed "s/^/  $name: /"
	fi
}

ratio() { printf "%.2f" "$(echo "scale=4; $1 / $2" | bc)"; }

# median X...: the middle value (the mean of the two middle ones).
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
declare -a r_bare r_wall r_cpu

ansible-playbook --version | sed -n 1p
echo "peer benchmark: $n lab devices, 10 interfaces each, $(date -u '+%F %T UTC'), $(nproc) cores, netrecon $(git -C "$root" rev-parse --short HEAD)"
echo "ansible: ansible.netcommon.netconf_config, -f $forks, host keys checked against the lab's known_hosts"
for r in $(seq 1 "$rounds"); do
	echo "round $r: $(uptime | sed 's/^ *//')"
	for name in netrecon bare ansible; do
		measure "$name"
	done
	r_bare+=("$(ratio "${wall[netrecon]}" "${wall[bare]}")")
	r_wall+=("$(ratio "${wall[ansible]}" "${wall[netrecon]}")")
	r_cpu+=("$(ratio "${cpu[ansible]}" "${cpu[netrecon]}")")
	printf 'ratios: netrecon/bare wall %s  ansible/netrecon wall %s  ansible/netrecon cpu %s\n' "${r_bare[-1]}" "${r_wall[-1]}" "${r_cpu[-1]}"
done
if [ "$rounds" -gt 1 ]; then
	printf 'median of %d rounds: netrecon/bare wall %s  ansible/netrecon wall %s  ansible/netrecon cpu %s\n' "$rounds" \
		"$(median "${r_bare[@]}")" "$(median "${r_wall[@]}")" "$(median "${r_cpu[@]}")"
fi
loop reset >/dev/null
