#!/usr/bin/env bash
# A throw-away single-node SLURM cluster with accounting, for the workflow's integration tests.
#
#   tests/slurm/cluster.sh start   # install what is missing, write the configs, start
#                                  # munged -> MariaDB -> slurmdbd -> slurmctld -> slurmd
#   tests/slurm/cluster.sh stop    # stop every daemon start started, by PID in reverse order,
#                                  # and remove its files; safe to call at any point
#
# Needs root (Debian/Ubuntu), free ports 6817-6819 and 3306, and no SLURM configuration of its own
# in /etc/slurm: the clients find theirs only there, so start links its files into it.
# State, logs and the MariaDB datadir live in $RNNDYN_SLURM_STATE (default /tmp/rnndyn-slurm).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${RNNDYN_SLURM_STATE:-/tmp/rnndyn-slurm}
ETC=/etc/slurm
CONFS=(slurm.conf gres.conf slurmdbd.conf)
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
PORTS=(6817 6818 6819 3306)
MUNGE_SOCKET=/run/munge/munge.socket.2
# shellcheck source=cluster.env
source "$HERE/cluster.env"

log() { echo "[slurm-cluster] $*" >&2; }

# Run "$@" until it succeeds, each try bounded, for at most $2 seconds in all.
wait_for() {
    local what=$1 limit=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until timeout -k 2 10 "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "gave up after ${limit}s waiting for $what"
            return 1
        fi
        sleep 0.5
    done
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    timeout -k 10 300 apt-get update -qq
    # apt does not start the daemons here (policy-rc.d, no systemd): start() does.
    DEBIAN_FRONTEND=noninteractive timeout -k 10 600 \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_free() {
    [[ $(id -u) == 0 ]] || { log "needs root"; return 1; }
    for port in "${PORTS[@]}"; do
        if port_in_use "$port"; then
            log "port $port is in use: stop whatever listens there first"
            return 1
        fi
    done
    for conf in "${CONFS[@]}"; do
        if [[ -e $ETC/$conf || -L $ETC/$conf ]]; then
            log "$ETC/$conf exists: this machine has a SLURM configuration of its own; not touching it"
            return 1
        fi
    done
    if [[ -S $MUNGE_SOCKET ]] && timeout -k 2 5 munge -n >/dev/null 2>&1; then
        log "a munged already answers on $MUNGE_SOCKET: stop it first"
        return 1
    fi
}

render() {
    local mem_total real_memory
    mem_total=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
    # Under the machine's memory so that slurmd never finds less than declared.
    real_memory=$((mem_total * 3 / 4))
    mkdir -p "$STATE"/{etc,log,pids,spool/slurmctld,spool/slurmd}
    for conf in "${CONFS[@]}"; do
        sed -e "s|@STATE@|$STATE|g" -e "s|@CLUSTER@|$CLUSTER_NAME|g" \
            -e "s|@REAL_MEMORY@|$real_memory|g" -e "s|@DEF_MEM_PER_CPU@|$((real_memory / 4))|g" \
            -e "s|@CPU_PARTITION@|$CPU_PARTITION|g" -e "s|@GPU_PARTITION@|$GPU_PARTITION|g" \
            "$HERE/$conf.in" >"$STATE/etc/$conf"
    done
    chmod 600 "$STATE/etc/slurmdbd.conf"
    mkdir -p "$ETC"
    for conf in "${CONFS[@]}"; do
        ln -s "$STATE/etc/$conf" "$ETC/$conf"
    done
}

start_munged() {
    [[ -f /etc/munge/munge.key ]] || mungekey --create --keyfile /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    # munged refuses directories that others can write to; it runs as the munge user.
    install -d -o munge -g munge -m 755 /run/munge /var/lib/munge /var/log/munge
    # --force: a socket left by a munged that was killed is stale (none answers, checked above).
    timeout -k 5 30 runuser -u munge -- munged --force
    wait_for munged 20 bash -c "munge -n | unmunge"
    cp /run/munge/munged.pid "$STATE/pids/munged.pid"
}

start_mariadb() {
    timeout -k 5 120 mariadb-install-db --no-defaults --user=root --datadir="$STATE/mysql" \
        --auth-root-authentication-method=normal --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1
    setsid mariadbd --no-defaults --user=root --datadir="$STATE/mysql" --socket="$STATE/mysql.sock" \
        --pid-file="$STATE/pids/mariadbd.pid" --bind-address=127.0.0.1 --port=3306 \
        --skip-log-bin --innodb-buffer-pool-size=32M --log-error="$STATE/log/mariadb.log" \
        </dev/null >/dev/null 2>&1 &
    wait_for MariaDB 60 mariadb-admin --no-defaults --socket="$STATE/mysql.sock" ping
    wait_for "MariaDB's PID file" 10 test -s "$STATE/pids/mariadbd.pid"
}

start_slurmdbd() {
    timeout -k 5 30 slurmdbd
    wait_for slurmdbd 60 sacctmgr -n list cluster
    timeout -k 5 30 sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null
    timeout -k 5 30 sacctmgr -i add account "$CLUSTER_ACCOUNT" Cluster="$CLUSTER_NAME" \
        Description="rnndyn tests" Organization=rnndyn >/dev/null
    timeout -k 5 30 sacctmgr -i add user root Account="$CLUSTER_ACCOUNT" Cluster="$CLUSTER_NAME" >/dev/null
}

start_slurm() {
    timeout -k 5 30 slurmctld
    wait_for slurmctld 60 bash -c "scontrol ping | grep -q UP"
    timeout -k 5 30 slurmd -N localhost
    wait_for "the node to be idle" 60 bash -c "sinfo -h -N -n localhost -o %T | grep -qx idle"
}

dump_logs() {
    for f in "$STATE"/log/*.log /var/log/munge/munged.log; do
        [[ -f $f ]] || continue
        log "--- last lines of $f"
        tail -n 12 "$f" >&2
    done
}

start() {
    local t0=$SECONDS
    install_packages
    check_free
    # From here on, whatever fails leaves nothing behind.
    trap 'rc=$?; trap - EXIT; if ((rc != 0)); then dump_logs; stop; fi; exit $rc' EXIT
    rm -rf "$STATE"
    render
    start_munged
    start_mariadb
    start_slurmdbd
    start_slurm
    log "cluster $CLUSTER_NAME up in $((SECONDS - t0)) s (state in $STATE)"
    sinfo >&2
}

# Stop the process whose PID file is $1 if it still is the program $2; SIGKILL after 20 s.
stop_daemon() {
    local pidfile=$1 name=$2 pid
    [[ -s $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 20))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name ($pid) ignored SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop() {
    local t0=$SECONDS
    if [[ -s $STATE/pids/slurmctld.pid ]]; then
        # Jobs first, so that no job step outlives slurmd.
        local jobs
        jobs=$(timeout -k 2 10 squeue -h -o %A 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            # shellcheck disable=SC2086
            timeout -k 2 10 scancel $jobs 2>/dev/null || true
            wait_for "the cancelled jobs to end" 30 bash -c '[[ -z $(squeue -h -t R,CG -o %A) ]]' || true
        fi
    fi
    stop_daemon "$STATE/pids/slurmd.pid" slurmd
    stop_daemon "$STATE/pids/slurmctld.pid" slurmctld
    stop_daemon "$STATE/pids/slurmdbd.pid" slurmdbd
    stop_daemon "$STATE/pids/mariadbd.pid" mariadbd
    stop_daemon "$STATE/pids/munged.pid" munged
    for conf in "${CONFS[@]}"; do
        if [[ -L $ETC/$conf && $(readlink "$ETC/$conf") == "$STATE/etc/$conf" ]]; then
            rm -f "$ETC/$conf"
        fi
    done
    rm -rf "$STATE"
    log "stopped in $((SECONDS - t0)) s"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop" >&2
        exit 2
        ;;
esac
