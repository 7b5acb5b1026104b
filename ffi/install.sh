#!/usr/bin/env bash
# Builds and installs libmesos_auth (shared and static), mesos_auth.h and
# mesos_auth.pc under PREFIX (default /usr/local), staged under DESTDIR if
# set (as packagers do: files land in $DESTDIR$PREFIX, and the .pc file
# names PREFIX alone).
#   bash ffi/install.sh [PREFIX]
#   DESTDIR=/tmp/stage bash ffi/install.sh /usr
#   MESOS_AUTH_FEATURES=gssapi,zk bash ffi/install.sh   (Kerberos, ZooKeeper;
#   C code then defines MESOS_AUTH_GSSAPI / MESOS_AUTH_ZK to see their API)
# The shared library is installed as libmesos_auth.so.X.Y.Z with the links
# libmesos_auth.so.X (its SONAME, what programs load) and libmesos_auth.so
# (what -lmesos_auth finds at build time).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"
dest="${DESTDIR:-}"
version=$(sed -n 's/^#define MESOS_AUTH_VERSION "\(.*\)"$/\1/p' ffi/include/mesos_auth.h)
major=${version%%.*}
# Cargo's build directory: honours CARGO_TARGET_DIR and .cargo/config
# (a path holding a double quote is not supported).
target=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
[ -n "$target" ] || { echo "cargo metadata gave no target_directory"; exit 1; }
cargo build -p mesos-auth-ffi --release ${MESOS_AUTH_FEATURES:+--features "$MESOS_AUTH_FEATURES"}
lib="$dest$prefix/lib"
install -d "$lib" "$dest$prefix/include" "$lib/pkgconfig"
install -m 0644 "$target"/release/libmesos_auth_ffi.a "$lib/libmesos_auth.a"
install -m 0755 "$target"/release/libmesos_auth_ffi.so "$lib/libmesos_auth.so.$version"
ln -sfn "libmesos_auth.so.$version" "$lib/libmesos_auth.so.$major"
ln -sfn "libmesos_auth.so.$major" "$lib/libmesos_auth.so"
install -m 0644 ffi/include/mesos_auth.h "$dest$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi/mesos_auth.pc.in \
  > "$lib/pkgconfig/mesos_auth.pc"
echo "installed mesos_auth $version under $dest$prefix"
