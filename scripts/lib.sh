# Shared helpers for skymesh's set-up scripts (sourced, not run).
say() { printf '\033[1m[skymesh]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[skymesh] %s\033[0m\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

APT_UPDATED=""
apt_install() {
    # apt_install PKG...: install the Debian packages that are missing (root only).
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root || ! is_debian; then
        die "missing system packages: ${missing[*]} (install them, then run this again)"
    fi
    say "installing ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}
