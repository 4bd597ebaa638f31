#!/usr/bin/env bash
# lab.sh — real NETCONF and SNMP peers on loopback for netrecon's tests.
#
# Verbs:
#   install     apt-get the servers and clients the tests use (netconfd, openssh-server,
#               snmpd, snmp, chromium, postgresql, exim4, bgpq4, whois); idempotent.
#   up [N]      start N netconfd devices (default 4) behind sshd, one snmpd, exim4 (the
#               IRR tests' MTA),
#               plus the extra devices of NETRECON_LAB_EXTRA (below).
#               Running `up` while the lab is up stops it first, then starts it again
#               with fresh, empty datastores (keys and host key are kept).
#   down        stop exactly the processes recorded in .run/pids; remove sockets.
#               With PostgreSQL 15 installed, also one PostgreSQL server on
#               127.0.0.1:$NETRECON_LAB_PG_PORT (default 25432), trust auth on loopback
#               only, its data folder in .run/postgres (kept across ups: the journal
#               tests create a database of their own per test), in lab.json as
#               "postgres": {"dsn": ...}.
#   status      print each recorded process and whether it is alive; exit 1 if not all are.
#
# Extra devices run a different module set, for tests of what a server without a
# module does (the YANG check): NETRECON_LAB_EXTRA is a space-separated list of
# NAME=MODULE,MODULE,... (default: lab-noipv6, without ietf-ipv6-unicast-routing;
# set it empty for none). They get the ports after the N devices and are listed
# apart in lab.json ("extra", with their modules), so that tests iterating over
# the devices see the same lab as without them.
# The default also starts lab-quiet1 and lab-quiet2, with the full module set:
# devices no test touches unless it holds them (labtest.Quiet), for the tests
# that count a device's sessions (the operator-session guard), which another
# package's test on the same device would otherwise disturb.
#
# The IRR tests' mail hop: `up` also starts exim4 (Debian exim4-daemon-light) on
# NETRECON_LAB_MTA_PORT (default 18025), relaying each simulated IRR database's
# mail domain (JPIRR, RADB, NTTCOM: <name>.irrsim.test) to that database's SMTP
# port, NETRECON_LAB_IRR_PORT + 10 + i (whois on NETRECON_LAB_IRR_PORT + i;
# default base 18043), where the test's drivers/irrsim listens; and delivering
# mail for irr-replies@lab.netrecon.test into the Maildir .run/mta/Maildir.
# lab.json's "mta" field says all of it (labtest.MTA).
#
# Everything lives under lab/.run/ (gitignored). Tests find the lab through
# lab/.run/lab.json, or $NETRECON_LAB (see lab/labtest).
# Facts this script relies on are in /work/shared/lab/NOTES.md (verified on Debian 12).
set -euo pipefail

LAB_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
RUN="$LAB_DIR/.run"
BASE_PORT=${NETRECON_LAB_BASE_PORT:-18301}
SNMP_ADDR=127.0.0.1:${NETRECON_LAB_SNMP_PORT:-18161}
COMMUNITY=netrecon-test
# A second snmpd for the usage tests, which count the requests the agent
# receives: no other test talks to it, so its counters are theirs alone.
USAGE_SNMP_ADDR=127.0.0.1:$((${NETRECON_LAB_SNMP_PORT:-18161} + 1))
# One sshd can listen on at most 16 ports ("Too many listen sockets").
PER_SSHD=16
WAIT_SECS=${NETRECON_LAB_WAIT:-60}
MODULES=(iana-if-type ietf-interfaces ietf-ip ietf-routing ietf-ipv4-unicast-routing ietf-ipv6-unicast-routing)
MTA_PORT=${NETRECON_LAB_MTA_PORT:-18025}
IRR_PORT=${NETRECON_LAB_IRR_PORT:-18043}
IRR_DBS=(JPIRR RADB NTTCOM)
MTA_REPLY=irr-replies@lab.netrecon.test
PG_PORT=${NETRECON_LAB_PG_PORT:-25432}
PG_BIN=/usr/lib/postgresql/15/bin
ALL_MODULES=$(IFS=,; echo "${MODULES[*]}")
EXTRA=${NETRECON_LAB_EXTRA-lab-noipv6=iana-if-type,ietf-interfaces,ietf-ip,ietf-routing,ietf-ipv4-unicast-routing lab-quiet1=$ALL_MODULES lab-quiet2=$ALL_MODULES}

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
# fail: stop what was started, then die.
fail() { cmd_down; die "$@"; }

# wait_for DESCRIPTION COMMAND... : run COMMAND until it succeeds or WAIT_SECS pass.
wait_for() {
	local what=$1; shift
	local deadline=$((SECONDS + WAIT_SECS))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			log "timed out after ${WAIT_SECS}s waiting for $what"
			return 1
		fi
		sleep 0.1
	done
}

cmd_install() {
	# chromium and its font: the status page's browser tests; postgresql: the
	# journal on PostgreSQL; exim4, bgpq4, whois: the IRR tests' real MTA and clients.
	local pkgs=(netconfd openssh-server snmpd snmp chromium fonts-dejavu-core
		postgresql exim4-daemon-light bgpq4 whois) missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "install: all packages present"
		return
	fi
	log "install: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# Not netconfd-module-ietf-*: their SIL code reads the host's interfaces and aborts netconfd.
	apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

is_up() {
	[[ -s "$RUN/pids" ]] || return 1
	local name pid
	while read -r name pid; do
		kill -0 "$pid" 2>/dev/null && return 0
	done <"$RUN/pids"
	return 1
}

cmd_down() {
	stop_postgres
	if [[ -f "$RUN/pids" ]]; then
		local name pid pids=()
		while read -r name pid; do
			[[ -n "$pid" ]] || continue
			if kill -0 "$pid" 2>/dev/null; then
				kill "$pid" 2>/dev/null || true
				pids+=("$pid")
			fi
		done <"$RUN/pids"
		local deadline=$((SECONDS + 10))
		for pid in "${pids[@]}"; do
			while kill -0 "$pid" 2>/dev/null; do
				if ((SECONDS >= deadline)); then
					kill -KILL "$pid" 2>/dev/null || true
					break
				fi
				sleep 0.05
			done
		done
		rm -f "$RUN/pids"
	fi
	rm -f "$RUN"/devices/*/ncx.sock "$RUN/lab.json"
	log "down"
}

cmd_status() {
	if [[ ! -s "$RUN/pids" ]]; then
		echo "lab is down"
		return 1
	fi
	local name pid bad=0
	while read -r name pid; do
		if kill -0 "$pid" 2>/dev/null; then
			printf '%-10s %8s up\n' "$name" "$pid"
		else
			printf '%-10s %8s DEAD\n' "$name" "$pid"
			bad=1
		fi
	done <"$RUN/pids"
	[[ -f "$RUN/lab.json" ]] && echo "lab.json: $RUN/lab.json"
	return $bad
}

# start_postgres: PostgreSQL 15 for the journal's tests, as the postgres user (initdb
# and postgres refuse root). setpriv, not runuser: runuser forks and waits, so the PID
# recorded would be runuser's, and stopping it would leave the server running.
start_postgres() {
	if [[ ! -x $PG_BIN/postgres ]] || ! id postgres >/dev/null 2>&1; then
		log "postgres: $PG_BIN/postgres or the postgres user missing: no PostgreSQL (run '$0 install')"
		return
	fi
	local data="$RUN/postgres/data" sock="$RUN/postgres/sock"
	# The postgres user must reach its folder through .run: traverse only (711);
	# every file in .run keeps its own mode (the client key is 0600).
	chmod 711 "$RUN"
	mkdir -p "$RUN/postgres" "$sock"
	chown postgres:postgres "$RUN/postgres" "$sock"
	if [[ ! -s $data/PG_VERSION ]]; then
		rm -rf "$data"
		setpriv --reuid=postgres --regid=postgres --init-groups \
			"$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
			>"$RUN/postgres/initdb.log" 2>&1 || fail "initdb failed: see $RUN/postgres/initdb.log"
		# Loopback only: TCP on 127.0.0.1 and a socket in our own folder.
		printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$data/pg_hba.conf"
	fi
	rm -f "$data/postmaster.pid"
	: >"$RUN/postgres/postgres.log"
	chown postgres:postgres "$RUN/postgres/postgres.log"
	(cd "$RUN/postgres" && exec setsid setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PG_BIN/postgres" -D "$data" -h 127.0.0.1 -p "$PG_PORT" -k "$sock" \
		-c max_connections=300 -c shared_buffers=64MB \
		</dev/null >>"$RUN/postgres/postgres.log" 2>&1) &
	echo "postgres $!" >>"$RUN/pids"
	wait_for "postgres on 127.0.0.1:$PG_PORT" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" ||
		fail "postgres did not start: see $RUN/postgres/postgres.log"
	PG_DSN="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
}

# stop_postgres: a fast shutdown (SIGINT: sessions are cut); the SIGTERM that cmd_down
# sends the others is PostgreSQL's smart shutdown, which waits for every client to leave.
stop_postgres() {
	local pidf="$RUN/postgres/data/postmaster.pid" pid
	[[ -s $pidf ]] || return 0
	pid=$(head -1 "$pidf")
	kill -0 "$pid" 2>/dev/null || return 0
	kill -INT "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + 10))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.05
	done
}

# start NAME LOG DIR COMMAND... : start a daemon in its own session (so it outlives this
# shell and a signal to our process group) and record its PID.
start() {
	local name=$1 logf=$2 dir=$3; shift 3
	(cd "$dir" && exec setsid "$@" </dev/null >>"$logf" 2>&1) &
	echo "$name $!" >>"$RUN/pids"
}

# hello PORT: succeed when the device on PORT sends its NETCONF <hello> (RFC 6241 8.1).
# ssh's stdin stays open (a coprocess) because netconf-subsystem quits at EOF, before
# the server's hello has been relayed.
hello() {
	local tok ok=1
	coproc HELLO {
		exec timeout 10 ssh -q -T -i "$RUN/client_key" -p "$1" \
			-o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$RUN/known_hosts" \
			-o ConnectTimeout=5 -s root@127.0.0.1 netconf 2>/dev/null
	}
	local pid=$HELLO_PID
	while IFS= read -r -d '>' -t 10 tok <&"${HELLO[0]}"; do
		if [[ $tok == *"</hello" ]]; then
			ok=0
			break
		fi
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	return $ok
}

# start_usage_snmpd: an snmpd serving the host's own interfaces (IF-MIB,
# ifXTable with the 64-bit counters) and its own SNMPv2-MIB counters.
start_usage_snmpd() {
	mkdir -p "$RUN/usage-snmp/persist"
	printf 'rocommunity %s 127.0.0.1\nsysDescr netrecon lab usage agent\n' "$COMMUNITY" >"$RUN/usage-snmp/snmpd.conf"
	SNMP_PERSISTENT_DIR="$RUN/usage-snmp/persist" MIBS='' start usage-snmpd "$RUN/usage-snmp/snmpd.log" "$RUN/usage-snmp" \
		/usr/sbin/snmpd -f -Lo -C -c "$RUN/usage-snmp/snmpd.conf" "udp:$USAGE_SNMP_ADDR"
}

usage_snmp_ok() {
	local out
	out=$(MIBS='' snmpget -v2c -c "$COMMUNITY" -On -t 1 -r 0 "$USAGE_SNMP_ADDR" .1.3.6.1.2.1.1.1.0 2>/dev/null) || return 1
	[[ $out == *"usage agent"* ]]
}

snmp_ok() {
	local out
	out=$(MIBS='' snmpget -v2c -c "$COMMUNITY" -On -t 1 -r 0 "$SNMP_ADDR" .1.3.6.1.2.1.1.1.0 2>/dev/null) || return 1
	[[ $out == *"netrecon lab"* ]]
}

# smtp_ok PORT: succeed when an SMTP server on 127.0.0.1:PORT sends its 220 greeting.
smtp_ok() {
	local line fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
	IFS= read -r -t 5 line <&"$fd" || true
	{ printf 'QUIT\r\n' >&"$fd"; } 2>/dev/null || true
	exec {fd}>&-
	[[ $line == 220* ]]
}

# start_mta: exim4 as the IRR tests' MTA, with its own config, spool, log and
# Maildir under .run/mta. Debian's exim4 honours -C (an alternate config) but then
# drops root for exim_user ("exim user lost privilege for using -C option"), and
# its fixed never_users is root: so the daemon and every delivery run as
# Debian-exim, which must own the spool, the log and the Maildir, and must be
# able to pass through .run (group Debian-exim, mode 710: no one else can).
# Submissions to a database are verified with a callout to the simulator while
# the submitter is still connected, so a database refusing mail (451 or 5xx)
# is refused to the submitter at once rather than queued in exim.
start_mta() {
	local exim=/usr/sbin/exim4 user=Debian-exim dir="$RUN/mta"
	[[ -x $exim ]] || fail "$exim missing: run '$0 install' first"
	id "$user" >/dev/null 2>&1 || fail "user $user missing (Debian's exim4 package creates it)"
	rm -rf "$dir"
	mkdir -p "$dir/spool" "$dir/log" "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
	chgrp "$user" "$RUN"
	chmod 711 "$RUN"
	local i name domains=() routes=()
	for i in "${!IRR_DBS[@]}"; do
		name=${IRR_DBS[i],,}
		domains+=("$name.irrsim.test")
		routes+=("$name.irrsim.test 127.0.0.1::$((IRR_PORT + 10 + i))")
	done
	cat >"$dir/exim.conf" <<EOF
# Written by lab/lab.sh for netrecon's IRR tests; not a mail server for anything else.
primary_hostname = lab.netrecon.test
daemon_smtp_ports = $MTA_PORT
local_interfaces = 127.0.0.1
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/exim.pid
exim_user = $user
exim_group = $user
keep_environment =
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
domainlist local_domains = lab.netrecon.test
domainlist irr_domains = $(IFS=:; echo "${domains[*]}")
hostlist lab_hosts = 127.0.0.1
acl_smtp_rcpt = acl_rcpt

begin acl
acl_rcpt:
  accept domains = +local_domains
         local_parts = ${MTA_REPLY%@*}
  # The callout's own refusal goes back to the submitter, not "relay not
  # permitted"; a temporary one (451) defers, as the simulator asked.
  deny   domains = +irr_domains
         hosts = +lab_hosts
         !verify = recipient/callout=10s,no_cache
         message = \$acl_verify_message
  accept domains = +irr_domains
         hosts = +lab_hosts
  deny   message = relay not permitted

begin routers
irrsim:
  driver = manualroute
  domains = +irr_domains
  route_list = $(IFS=';'; echo "${routes[*]}")
  transport = irrsim_smtp
  self = send
replies:
  driver = accept
  domains = +local_domains
  local_parts = ${MTA_REPLY%@*}
  transport = maildir

begin transports
irrsim_smtp:
  driver = smtp
  allow_localhost
  hosts_avoid_tls = *
maildir:
  driver = appendfile
  directory = $dir/Maildir
  maildir_format
  user = $user
  group = $user
  envelope_to_add
  return_path_add

begin retry
# A mail the simulator deferred after exim accepted it is retried soon.
*  *  F,1h,5s
EOF
	chown -R "$user:$user" "$dir/spool" "$dir/log" "$dir/Maildir"
	"$exim" -C "$dir/exim.conf" -bV >/dev/null 2>"$dir/exim.out" || fail "exim4 refuses $dir/exim.conf: see $dir/exim.out"
	# -bdf: the daemon in the foreground, so the PID recorded is the daemon's;
	# -q5s: queue runs for mail the simulator deferred.
	start mta "$dir/exim.out" "$dir" "$exim" -C "$dir/exim.conf" -bdf -q5s
	wait_for "exim4 on 127.0.0.1:$MTA_PORT" smtp_ok "$MTA_PORT" || fail "exim4 not ready: see $dir/exim.out and $dir/log/"
}

# mta_json: lab.json's "mta" field.
mta_json() {
	local i
	printf '"mta":{"address":"127.0.0.1:%d","replyAddress":"%s","maildir":"%s","databases":[' "$MTA_PORT" "$MTA_REPLY" "$RUN/mta/Maildir"
	for i in "${!IRR_DBS[@]}"; do
		((i == 0)) || printf ','
		printf '{"name":"%s","mailDomain":"%s.irrsim.test","whois":"127.0.0.1:%d","smtp":"127.0.0.1:%d"}' \
			"${IRR_DBS[i]}" "${IRR_DBS[i],,}" $((IRR_PORT + i)) $((IRR_PORT + 10 + i))
	done
	printf ']}'
}

cmd_up() {
	local n=${1:-4}
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "up: N must be a positive integer, got '$n'"
	((n <= 400)) || die "up: at most 400 devices"
	[[ $(id -u) -eq 0 ]] || die "up: run as root (netconfd --superuser=root, sshd)"
	for b in /usr/sbin/netconfd /usr/sbin/netconf-subsystem /usr/sbin/sshd /usr/sbin/snmpd /usr/bin/snmpget; do
		[[ -x $b ]] || die "$b missing: run '$0 install' first"
	done
	if is_up; then
		log "lab is up: restarting it"
	fi
	cmd_down
	local t0=$SECONDS

	# The devices: lab1..labN with MODULES, then the extra ones.
	local names=() ports=() modsets=() i
	for ((i = 1; i <= n; i++)); do
		names+=("lab$i")
		ports+=($((BASE_PORT + i - 1)))
		modsets+=("$(
			IFS=,
			echo "${MODULES[*]}"
		)")
	done
	local spec
	for spec in $EXTRA; do
		[[ $spec =~ ^[a-z][a-z0-9-]*=[a-z0-9,-]+$ ]] || die "NETRECON_LAB_EXTRA: '$spec' is not NAME=MODULE,MODULE,..."
		names+=("${spec%%=*}")
		ports+=($((BASE_PORT + ${#names[@]} - 1)))
		modsets+=("${spec#*=}")
	done
	local total=${#names[@]}

	mkdir -p "$RUN/devices" "$RUN/sshd" "$RUN/snmp/persist" /run/sshd
	chmod 700 "$RUN"
	: >"$RUN/pids"
	[[ -f "$RUN/client_key" ]] || ssh-keygen -q -t ed25519 -N '' -C netrecon-lab -f "$RUN/client_key"
	[[ -f "$RUN/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -C netrecon-lab-host -f "$RUN/ssh_host_ed25519_key"
	cp "$RUN/client_key.pub" "$RUN/authorized_keys"
	local hostpub
	hostpub=$(cut -d' ' -f1,2 "$RUN/ssh_host_ed25519_key.pub")

	# netconfd devices. Its work directory is ~/.yuma of the user from the password
	# database (not $HOME), shared by all instances; first starts race to create it.
	# So: the first device alone, wait for its socket, then the rest.
	local port dir name m mods
	: >"$RUN/known_hosts"
	for ((i = 0; i < total; i++)); do
		name=${names[i]} port=${ports[i]}
		dir="$RUN/devices/$name"
		rm -rf "$dir"
		mkdir -p "$dir"
		echo "[127.0.0.1]:$port $hostpub" >>"$RUN/known_hosts"
		mods=()
		for m in ${modsets[i]//,/ }; do
			if compgen -G "/usr/share/yuma/modules/*/$m.yang" >/dev/null ||
				compgen -G "/usr/share/yuma/modules/*/$m@*.yang" >/dev/null; then
				mods+=("--module=$m")
			else
				log "module $m not shipped in /usr/share/yuma/modules: not loaded on $name"
			fi
		done
		# --port: netconf-subsystem refuses sessions whose SSH port is not one of netconfd's.
		HOME="$dir" start "$name" "$dir/netconfd.log" "$dir" /usr/sbin/netconfd "${mods[@]}" \
			--superuser=root --no-startup --port="$port" --ncxserver-sockname="$dir/ncx.sock"
		if ((i == 0)); then
			wait_for "$name socket $dir/ncx.sock" test -S "$dir/ncx.sock" || fail "netconfd $name did not start: see $dir/netconfd.log"
		fi
	done
	for ((i = 1; i < total; i++)); do
		wait_for "${names[i]} socket" test -S "$RUN/devices/${names[i]}/ncx.sock" || fail "netconfd ${names[i]} did not start: see $RUN/devices/${names[i]}/netconfd.log"
	done

	# sshd, one per PER_SSHD devices, each with its own Port lines and port@socket pairs.
	local g first last conf sub
	for ((g = 0; g * PER_SSHD < total; g++)); do
		first=$((g * PER_SSHD))
		last=$(((g + 1) * PER_SSHD - 1))
		((last < total)) || last=$((total - 1))
		conf="$RUN/sshd/sshd-$g.conf"
		sub="/usr/sbin/netconf-subsystem"
		# SetEnv SHLVL=1: sshd starts the subsystem as `$SHELL -c netconf-subsystem`,
		# and bash, seeing SSH_CLIENT at shell level 1, sources ~/.bashrc first. On
		# the project's machines root's ~/.bashrc runs `pyenv init` (about 50
		# processes, ~145 ms of CPU and 0.1-0.4 s of wall per session, measured):
		# that, not sshd or netconfd, was most of the "server cost" of a session. A
		# router's NETCONF server runs no login shell rc; at level 2 bash skips it.
		{
			for ((i = first; i <= last; i++)); do
				echo "Port ${ports[i]}"
				sub+=" --ncxserver-sockname=${ports[i]}@$RUN/devices/${names[i]}/ncx.sock"
			done
			cat <<EOF
ListenAddress 127.0.0.1
HostKey $RUN/ssh_host_ed25519_key
PidFile $RUN/sshd/sshd-$g.pid
AuthorizedKeysFile $RUN/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 200:30:400
MaxSessions 50
LoginGraceTime 30
LogLevel ERROR
SetEnv SHLVL=1
Subsystem netconf $sub
EOF
		} >"$conf"
		/usr/sbin/sshd -t -f "$conf" || fail "bad sshd config $conf"
		start "sshd$g" "$RUN/sshd/sshd-$g.log" "$RUN" /usr/sbin/sshd -D -f "$conf" -E "$RUN/sshd/sshd-$g.log"
	done

	# snmpd with an extend that tests flip to say "an operator is logged in".
	echo 0 >"$RUN/snmp/maint"
	cat >"$RUN/snmp/snmpd.conf" <<EOF
rocommunity $COMMUNITY 127.0.0.1
sysDescr netrecon lab PE
extend maint /bin/cat $RUN/snmp/maint
EOF
	SNMP_PERSISTENT_DIR="$RUN/snmp/persist" MIBS='' start snmpd "$RUN/snmp/snmpd.log" "$RUN/snmp" \
		/usr/sbin/snmpd -f -Lo -C -c "$RUN/snmp/snmpd.conf" "udp:$SNMP_ADDR"
	start_usage_snmpd

	PG_DSN=
	start_postgres

	# Ready means: every device answers a NETCONF hello over SSH, and snmpd answers.
	local pids=()
	for ((i = 0; i < total; i++)); do
		wait_for "${names[i]} NETCONF hello on port ${ports[i]}" hello "${ports[i]}" &
		pids+=($!)
		# Keep session starts bounded: a burst of ~100 overwhelms sshd on 2 cores.
		if ((${#pids[@]} >= 8)); then
			wait "${pids[0]}" || fail "devices not ready"
			pids=("${pids[@]:1}")
		fi
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "devices not ready"
	done
	wait_for "snmpd on $SNMP_ADDR" snmp_ok || fail "snmpd not ready: see $RUN/snmp/snmpd.log"
	wait_for "usage snmpd on $USAGE_SNMP_ADDR" usage_snmp_ok || fail "usage snmpd not ready: see $RUN/usage-snmp/snmpd.log"
	start_mta

	{
		printf '{"devices":['
		for ((i = 1; i <= n; i++)); do
			((i == 1)) || printf ','
			printf '{"name":"lab%d","address":"127.0.0.1","port":%d}' "$i" $((BASE_PORT + i - 1))
		done
		printf '],"extra":['
		for ((i = n; i < total; i++)); do
			((i == n)) || printf ','
			printf '{"name":"%s","address":"127.0.0.1","port":%d,"modules":["%s"]}' "${names[i]}" "${ports[i]}" "${modsets[i]//,/\",\"}"
		done
		printf '],"username":"root","keyFile":"%s","knownHosts":"%s",' "$RUN/client_key" "$RUN/known_hosts"
		printf '"snmp":{"address":"%s","community":"%s","maintFile":"%s"},' "$SNMP_ADDR" "$COMMUNITY" "$RUN/snmp/maint"
		printf '"usageSnmp":{"address":"%s","community":"%s"},' "$USAGE_SNMP_ADDR" "$COMMUNITY"
		[[ -z $PG_DSN ]] || printf '"postgres":{"dsn":"%s"},' "$PG_DSN"
		mta_json
		printf '}\n'
	} >"$RUN/lab.json.tmp"
	mv "$RUN/lab.json.tmp" "$RUN/lab.json"
	log "up: $n devices on 127.0.0.1:$BASE_PORT..$((BASE_PORT + n - 1)), $((total - n)) extra (${names[*]:n}), snmp $SNMP_ADDR${PG_DSN:+, postgres 127.0.0.1:$PG_PORT}, mta 127.0.0.1:$MTA_PORT, in $((SECONDS - t0))s"
	log "lab.json: $RUN/lab.json"
}

case "${1:-}" in
install) cmd_install ;;
up) cmd_up "${2:-4}" ;;
down) cmd_down ;;
status) cmd_status ;;
*)
	echo "usage: $0 install | up [N] | down | status" >&2
	exit 2
	;;
esac
