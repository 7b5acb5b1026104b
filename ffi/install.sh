#!/usr/bin/env bash
# Builds and installs libmesos_auth (.so and .a), mesos_auth.h and
# mesos_auth.pc under PREFIX (default /usr/local).
#   bash ffi/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"
version=$(sed -n 's/^#define MESOS_AUTH_VERSION "\(.*\)"$/\1/p' ffi/include/mesos_auth.h)
# Cargo's build directory: honours CARGO_TARGET_DIR and .cargo/config
# (a path holding a double quote is not supported).
target=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
[ -n "$target" ] || { echo "cargo metadata gave no target_directory"; exit 1; }
cargo build -p mesos-auth-ffi --release
install -d "$prefix/lib" "$prefix/include" "$prefix/lib/pkgconfig"
install -m 0644 "$target"/release/libmesos_auth_ffi.a "$prefix/lib/libmesos_auth.a"
install -m 0755 "$target"/release/libmesos_auth_ffi.so "$prefix/lib/libmesos_auth.so"
install -m 0644 ffi/include/mesos_auth.h "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi/mesos_auth.pc.in \
  > "$prefix/lib/pkgconfig/mesos_auth.pc"
echo "installed mesos_auth $version under $prefix"
