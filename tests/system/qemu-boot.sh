# Sourced by the tests that boot a VM (tests/system/run, tests/guest-egd/run)
# and bench/guest-egd: starting qemu-system-x86_64 under KVM when KVM works,
# else under TCG.
#
# /dev/kvm on these machines may be a paravirtual KVM that hangs stock
# kernels early in boot, so KVM is used only when the guest's serial console
# shows `pattern` within `probe_seconds`; otherwise that VM is killed and the
# guest boots again under TCG.  The caller defines log() for its messages.

# qemu_start kvm|tcg LOG QEMU_ARGS...: starts qemu in the background with
# the accelerator's flags, stderr to LOG; sets qemu_pid.
qemu_start() {
  local accel=(-accel tcg -cpu max) log=$2
  [ "$1" = kvm ] && accel=(-accel kvm -cpu host)
  shift 2
  qemu-system-x86_64 "${accel[@]}" "$@" 2> "$log" &
  qemu_pid=$!
}

# qemu_boot PROBE_SECONDS SERIAL LOG_PREFIX PATTERN PREPARE QEMU_ARGS...:
# boots with the KVM probe and TCG fallback; PREPARE (a command, ":" for
# none) runs before each boot (a fresh overlay disk...), SERIAL is removed
# first.  The qemu logs are LOG_PREFIX-kvm.log and LOG_PREFIX-tcg.log.
# Sets qemu_pid and qemu_accel (kvm or tcg).
qemu_boot() {
  local probe=$1 serial=$2 prefix=$3 pattern=$4 prepare=$5
  shift 5
  qemu_accel=tcg
  if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    # bash reports a qemu that aborts on its own stderr: into the log with it.
    exec 3>&2 2>>"$prefix-kvm.log"
    $prepare
    rm -f "$serial"
    qemu_start kvm "$prefix-kvm.log" "$@"
    local why="no init within $probe s"
    for _ in $(seq "$probe"); do
      grep -q -E "$pattern" "$serial" 2>/dev/null && { qemu_accel=kvm; break; }
      kill -0 "$qemu_pid" 2>/dev/null || { why="qemu exited before init"; break; }
      sleep 1
    done
    if [ $qemu_accel = tcg ]; then
      log "KVM: $why ($(grep -v ' Aborted ' "$prefix-kvm.log" 2>/dev/null | tail -n 1 || true)), falling back to TCG"
      kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true
    fi
    exec 2>&3 3>&-
  else
    log "no usable /dev/kvm: TCG"
  fi
  if [ $qemu_accel = tcg ]; then
    $prepare
    rm -f "$serial"
    qemu_start tcg "$prefix-tcg.log" "$@"
  fi
}

# What every stock Debian kernel prints once it starts init.
qemu_init_pattern='Run /init|Freeing unused kernel|systemd\[1\]|Welcome to'
