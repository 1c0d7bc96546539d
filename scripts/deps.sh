# Sourced by scripts/run, scripts/test and scripts/bench: installs the Debian
# packages rngpool needs, and only those that are missing.
rngpool_packages=(
  g++ cmake ninja-build pkg-config
  libboost-dev libboost-program-options-dev libsystemd-dev libssl-dev openssl
  catch2
  systemd netcat-openbsd socat groff-base
  prometheus python3-prometheus-client tmux
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  rng-tools5 wamerican
  python3 python3-pytest python3-setuptools python3-wheel python3-pip
  debhelper dpkg-dev lintian ccache
  qemu-system-x86 qemu-utils mmdebstrap e2fsprogs
)

rngpool_install_deps() {
  local missing=() p
  for p in "${rngpool_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "rngpool: installing missing packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# rngpool_build DIR [cmake options...]: configure (once) and build into DIR.
rngpool_build() {
  local dir=$1; shift
  cmake -S "$rngpool_root" -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

rngpool_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
