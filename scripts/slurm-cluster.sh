#!/bin/bash
# slurm-cluster.sh: a one-node SLURM cluster on loopback, for testing fob's slurm_array and
# slurm_jobs schedulers on one machine (no systemd needed).
#
#   scripts/slurm-cluster.sh start    install (Debian) and start munged, slurmctld and slurmd;
#                                     wait until the node is idle
#   scripts/slurm-cluster.sh status   show the daemons and sinfo
#   scripts/slurm-cluster.sh stop     stop the daemons this script started (by recorded PID)
#
# Needs root. State, logs and the configuration live in $FOB_SLURM_DIR (default /tmp/fob-slurm).
# The node offers the machine's CPUs and memory, and 4 stand-in GPU generic resources (links to
# /dev/null) so that FOB's default "--gres=gpu:N" requests are accepted. Accounting is off.
# sbatch, squeue and sinfo find the configuration through /etc/slurm/slurm.conf, which is linked
# to ours when no other configuration is there; otherwise export SLURM_CONF as printed.
set -euo pipefail

DIR=${FOB_SLURM_DIR:-/tmp/fob-slurm}
CONF=$DIR/slurm.conf
SYSCONF=/etc/slurm/slurm.conf
NODE=$(hostname -s)

die() { echo "slurm-cluster: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
	local missing=()
	for b in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge; do
		command -v "${b%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${b%%:*}" ] || missing+=("${b##*:}")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "installing ${missing[*]}"
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
	fi
}

start_munge() {
	if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
		echo "munged: already running, using it"
		return
	fi
	mkdir -p /run/munge "$DIR/munge"
	chown munge:munge /run/munge "$DIR/munge"
	chmod 0755 /run/munge
	chmod 0700 "$DIR/munge"
	if [ ! -s /etc/munge/munge.key ]; then
		mkdir -p /etc/munge
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
		chown -R munge:munge /etc/munge
		chmod 0700 /etc/munge
		chmod 0400 /etc/munge/munge.key
	fi
	runuser -u munge -- /usr/sbin/munged --force \
		--pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
	for _ in $(seq 50); do
		[ -s "$DIR/munge/munged.pid" ] && break
		sleep 0.1
	done
	cp "$DIR/munge/munged.pid" "$DIR/munged.pid"
	munge -n | unmunge >/dev/null || die "munged does not answer; see $DIR/munge/munged.log"
}

write_config() {
	# slurmd -C reports this machine's CPUs, sockets, cores, threads and memory (MB).
	local line hw mem
	line=$(slurmd -C)
	line=${line%%$'\n'*}
	hw=$(sed -e 's/^NodeName=[^ ]* //' -e 's/ RealMemory=[0-9]*//' <<<"$line")
	mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$line")
	mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
	cat >"$CONF" <<EOF
# fob test cluster (scripts/slurm-cluster.sh): one node on loopback
ClusterName=fob
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
GresTypes=gpu
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
NodeName=$NODE NodeAddr=127.0.0.1 $hw RealMemory=$mem Gres=gpu:4 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
	# Four GPU resources so that FOB's default --gres=gpu:N requests run here; slurmd wants a
	# character device per GPU, so each is a link to /dev/null.
	mkdir -p "$DIR/dev"
	for i in 0 1 2 3; do ln -sfn /dev/null "$DIR/dev/gpu$i"; done
	cat >"$DIR/gres.conf" <<EOF
NodeName=$NODE Name=gpu File=$DIR/dev/gpu[0-3]
EOF
	# slurmd reads gres.conf next to slurm.conf.
	if [ ! -e "$SYSCONF" ] || [ "$(readlink "$SYSCONF" 2>/dev/null)" = "$CONF" ]; then
		mkdir -p /etc/slurm
		ln -sfn "$CONF" "$SYSCONF"
		[ -e /etc/slurm/gres.conf ] || ln -sfn "$DIR/gres.conf" /etc/slurm/gres.conf
	fi
}

wait_idle() {
	local state
	for _ in $(seq 600); do
		state=$(SLURM_CONF=$CONF sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)
		# "idle" alone: a suffix such as "*" means the node has not registered yet.
		[ "$state" = idle ] && return 0
		sleep 0.1
	done
	die "node $NODE is not idle after 60 s (state: ${state:-none}); see $DIR/log/"
}

start() {
	[ "$(id -u)" = 0 ] || die "needs root"
	if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid"; then
		echo "already running"
		SLURM_CONF=$CONF sinfo
		return
	fi
	local t0 ms
	t0=$(date +%s%N)
	install_packages
	start_munge
	write_config
	SLURM_CONF=$CONF slurmctld -c -f "$CONF"
	SLURM_CONF=$CONF slurmd -N "$NODE" -f "$CONF"
	wait_idle
	ms=$((($(date +%s%N) - t0) / 1000000))
	printf 'slurm cluster up: node %s idle after %d.%03d s\n' "$NODE" $((ms / 1000)) $((ms % 1000))
	[ "$(readlink "$SYSCONF" 2>/dev/null)" = "$CONF" ] || echo "export SLURM_CONF=$CONF"
	SLURM_CONF=$CONF sinfo
}

stop() {
	local name pid
	for name in slurmd slurmctld munged; do
		if alive "$DIR/$name.pid"; then
			pid=$(cat "$DIR/$name.pid")
			kill "$pid"
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
			echo "stopped $name ($pid)"
		fi
		rm -f "$DIR/$name.pid"
	done
	if [ "$(readlink "$SYSCONF" 2>/dev/null)" = "$CONF" ]; then
		rm -f "$SYSCONF"
		[ "$(readlink /etc/slurm/gres.conf 2>/dev/null)" = "$DIR/gres.conf" ] && rm -f /etc/slurm/gres.conf
	fi
	return 0
}

status() {
	local name
	for name in munged slurmctld slurmd; do
		if alive "$DIR/$name.pid"; then echo "$name: running ($(cat "$DIR/$name.pid"))"; else echo "$name: not started here"; fi
	done
	SLURM_CONF=$CONF sinfo 2>/dev/null || true
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
