# Sourced by scripts/test.sh and scripts/prod_stack.sh: install a Debian package when what needs
# it is missing (as root, through apt-get); otherwise say what to install and stop.
need() {
  local command="$1" packages="$2" why="$3"
  command -v "$command" >/dev/null 2>&1 && return 0
  install_packages "$command" "$packages" "$why"
}

install_packages() {
  local command="$1" packages="$2" why="$3"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> Installing $packages ($why)"
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "error: $why need '$command': install the Debian package(s) $packages." >&2
    exit 1
  fi
}

# Debian's PostgreSQL server binaries are not on PATH: ask the helper that finds them.
need_postgres() {
  if ! .venv/bin/python -m devtools.postgres --check >/dev/null 2>&1; then
    install_packages initdb postgresql "$1"
  fi
}
