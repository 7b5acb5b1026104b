#!/usr/bin/env bash
# The real-Mesos harness: runs the mesos-auth modules inside the official
# Apache Mesos 1.11.0 build (master and agent in one process, as mesos-local)
# and compares each outcome with Mesos's built-in counterpart on the same
# binary. Prints one PASS/FAIL line per check and "N passed, M failed".
#
#   MESOS_SRC=/path/to/mesos-1.11.0 bash ffi/mesos/tests/real-mesos.sh [CHECK...]
#
# MESOS_SRC: a checkout of apache/mesos at tag 1.11.0 (headers, .proto files
# and the bundled third-party tarballs). Without it the harness runs nothing,
# says so, and exits 0 (CI has no Mesos source tree).
# Downloads (through the package index pip is configured with) and builds are
# cached in $MESOS_AUTH_REAL_MESOS_CACHE (default ~/.cache/mesos-auth/real-mesos).
# Nothing downloaded or generated here is committed. See README.md beside.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)

if [ -z "${MESOS_SRC:-}" ]; then
  echo "real-mesos: SKIPPED (MESOS_SRC is not set: no Mesos 1.11.0 source tree, so no module was built or run)"
  exit 0
fi
MESOS_SRC=$(cd "$MESOS_SRC" && pwd)
[ -f "$MESOS_SRC/include/mesos/module.hpp" ] && [ -f "$MESOS_SRC/src/local/local.hpp" ] || {
  echo "real-mesos: MESOS_SRC=$MESOS_SRC is not a Mesos source tree"; exit 1; }
version=$(sed -n 's/^AC_INIT(\[mesos\], \[\([^]]*\)\]).*/\1/p' "$MESOS_SRC/configure.ac" 2>/dev/null || true)
[ "$version" = 1.11.0 ] || { echo "real-mesos: MESOS_SRC is Mesos '${version:-unknown}', not 1.11.0"; exit 1; }

cache=${MESOS_AUTH_REAL_MESOS_CACHE:-$HOME/.cache/mesos-auth/real-mesos}
mkdir -p "$cache"
step() { printf '== real-mesos: %s (%ss)\n' "$*" "$SECONDS"; }
# done_key NAME KEY: true when step NAME already ran with KEY.
done_key() { [ -f "$cache/.$1.stamp" ] && [ "$(cat "$cache/.$1.stamp")" = "$2" ]; }
mark() { echo "$2" > "$cache/.$1.stamp"; }
jobs=$(nproc)

step "system packages"
# Run time (libmesos's NEEDED libraries) and build time (stout includes
# curl.h and zlib.h).
pkgs=(libsvn1 libapr1 libsasl2-2 libsasl2-modules zlib1g zlib1g-dev libcurl4-openssl-dev
      curl g++ binutils python3 patch)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "downloads"
MESOS_TGZ=mesos.scheduler-1.11.0.linux-x86_64.tar.gz
GRPC_TGZ=grpcio-tools-1.10.0.tar.gz
[ -f "$cache/$MESOS_TGZ" ] || python3 "$here/real-mesos/fetch.py" mesos-scheduler "$MESOS_TGZ" "$cache/$MESOS_TGZ"
[ -f "$cache/$GRPC_TGZ" ] || python3 "$here/real-mesos/fetch.py" grpcio-tools "$GRPC_TGZ" "$cache/$GRPC_TGZ"

prefix=$cache/prefix        # laid out like a Mesos install (include/, lib/)
tp=$prefix/lib/mesos/3rdparty/include
lib=$prefix/lib/libmesos.so
if ! done_key libmesos "$MESOS_TGZ"; then
  step "libmesos from the official build"
  rm -rf "$cache/mesos-bin" && mkdir -p "$cache/mesos-bin" "$prefix/lib"
  tar -xzf "$cache/$MESOS_TGZ" -C "$cache/mesos-bin"
  so=$(find "$cache/mesos-bin" -name _scheduler.so | head -n1)
  # Named libmesos.so, as an install names it: the modules' NEEDED entry then
  # resolves to the copy the host already loaded.
  cp "$so" "$lib"
  rm -rf "$cache/mesos-bin"
  mark libmesos "$MESOS_TGZ"
fi

stubs=$cache/stubs
key="$(cat "$here/real-mesos/stubs.py" | sha256sum)"
if ! done_key stubs "$key"; then
  step "stub libraries (OpenSSL 1.0, libcurl CURL_OPENSSL_3)"
  rm -rf "$stubs" && python3 "$here/real-mesos/stubs.py" "$lib" "$stubs"
  for so in libssl.so.1.0.0 libcrypto.so.1.0.0 libcurl.so.4; do
    gcc -shared -fPIC -O1 -w "$stubs/$so.c" -Wl,--version-script="$stubs/$so.map" \
      -Wl,-soname,"$so" -o "$stubs/$so"
  done
  mark stubs "$key"
fi

protobuf=$cache/grpcio-tools-1.10.0/third_party/protobuf/src
protoc=$cache/protoc
# Contents only: the same sources from another checkout reuse the build.
key="$(cat "$MESOS_SRC/3rdparty/protobuf-3.5.0.patch" "$here/real-mesos/protoc_main.cc" | sha256sum)"
if ! done_key protoc "$key"; then
  step "protoc 3.5 (C++ generator) from grpcio-tools 1.10.0's protobuf sources"
  rm -rf "$cache/grpcio-tools-1.10.0" "$cache/protoc-obj"
  tar -xzf "$cache/$GRPC_TGZ" -C "$cache"
  (cd "$protobuf/.." && patch -p1 -s < "$MESOS_SRC/3rdparty/protobuf-3.5.0.patch")
  mkdir -p "$cache/protoc-obj"
  # The sources grpcio-tools builds protoc from, less the other languages'
  # generators.
  python3 - "$cache/grpcio-tools-1.10.0" > "$cache/protoc-srcs.txt" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import protoc_lib_deps
skip = ("java", "javanano", "csharp", "objectivec", "js", "ruby", "php", "python")
for f in protoc_lib_deps.CC_FILES:
    if not any("/compiler/%s/" % s in f for s in skip):
        print(f)
PY
  echo "$here/real-mesos/protoc_main.cc" >> "$cache/protoc-srcs.txt"
  export protobuf cache
  xargs -P "$jobs" -I{} sh -c 'case "$1" in /*) s=$1;; *) s=$protobuf/$1;; esac
    g++ -std=c++11 -O1 -w -DHAVE_PTHREAD -I"$protobuf" -c "$s" -o "$cache/protoc-obj/$(echo "$1" | tr / _).o"' _ {} \
    < "$cache/protoc-srcs.txt"
  g++ -pthread "$cache"/protoc-obj/*.o -o "$protoc"
  rm -rf "$cache/protoc-obj"
  "$protoc" --version
  mark protoc "$key"
fi

key="$(cd "$MESOS_SRC" && find include src -name '*.proto' | sort | xargs cat | sha256sum)$(sha256sum < "$0")"
if ! done_key headers "$key"; then
  step "Mesos 1.11.0 headers, bundled third-party headers, generated protobuf headers"
  rm -rf "$prefix/include" "$prefix/lib/mesos" "$cache/gen" "$cache/3rdparty"
  mkdir -p "$prefix/include" "$tp" "$cache/gen" "$cache/3rdparty"
  cp -r "$MESOS_SRC/include/." "$prefix/include/"
  cp -r "$MESOS_SRC/3rdparty/libprocess/include/." "$prefix/include/"
  cp -r "$MESOS_SRC/3rdparty/stout/include/." "$prefix/include/"
  find "$prefix/include" -name '*.proto' -delete
  # What configure would write for 1.11.0.
  sed -e 's/@PACKAGE_VERSION@/1.11.0/; s/@MESOS_MAJOR_VERSION@/1/g' \
      -e 's/@MESOS_MINOR_VERSION@/11/g; s/@MESOS_PATCH_VERSION@/0/g' \
      "$MESOS_SRC/include/mesos/version.hpp.in" > "$prefix/include/mesos/version.hpp"
  t=$cache/3rdparty
  for name in boost-1.65.0 glog-0.4.0 picojson-1.3.0 rapidjson-1.1.0 concurrentqueue-7b69a8f elfio-3.2; do
    tar -xzf "$MESOS_SRC/3rdparty/$name.tar.gz" -C "$t"
    if [ -f "$MESOS_SRC/3rdparty/$name.patch" ]; then
      (cd "$t/$name" && patch -p1 -s < "$MESOS_SRC/3rdparty/$name.patch")
    fi
  done
  cp -r "$t/boost-1.65.0/boost" "$tp/"
  cp "$t/picojson-1.3.0/picojson.h" "$tp/"
  cp -r "$t/rapidjson-1.1.0/include/rapidjson" "$tp/"
  cp "$t/concurrentqueue-7b69a8f/concurrentqueue.h" "$tp/"
  cp -r "$t/elfio-3.2/elfio" "$tp/"
  # glog's public headers, as its configure writes them on Linux without gflags.
  mkdir -p "$tp/glog"
  cp "$t/glog-0.4.0/src/glog/log_severity.h" "$tp/glog/"
  for h in logging raw_logging stl_logging vlog_is_on; do
    sed -e 's/@ac_google_namespace@/google/g' \
        -e 's/@ac_google_start_namespace@/namespace google {/g' \
        -e 's/@ac_google_end_namespace@/}/g' \
        -e 's/@ac_cv_have_unistd_h@/1/g; s/@ac_cv_have_stdint_h@/1/g' \
        -e 's/@ac_cv_have_systypes_h@/1/g; s/@ac_cv_have_inttypes_h@/1/g' \
        -e 's/@ac_cv_have_uint16_t@/1/g; s/@ac_cv_have_u_int16_t@/1/g; s/@ac_cv_have___uint16@/0/g' \
        -e 's/@ac_cv_have_libgflags@/0/g; s/@ac_cv_have___builtin_expect@/1/g' \
        -e 's/@ac_cv_cxx_using_operator@/1/g' \
        -e 's/@ac_cv___attribute___noreturn@/__attribute__ ((noreturn))/g' \
        -e 's/@ac_cv___attribute___noinline@/__attribute__ ((noinline))/g' \
        -e 's/@ac_cv___attribute___printf_4_5@/__attribute__((__format__ (__printf__, 4, 5)))/g' \
        "$t/glog-0.4.0/src/glog/$h.h.in" > "$tp/glog/$h.h"
  done
  (cd "$protobuf" && find google -name '*.h' -exec cp --parents {} "$tp/" \;)
  rm -rf "$t"
  # Public protos into the install's include/, internal ones for the host.
  (cd "$MESOS_SRC/include" && find mesos -name '*.proto' | sort |
    xargs "$protoc" -I. -I"$protobuf" --cpp_out="$prefix/include")
  # The internal messages (the host needs no other internal proto; the CSI
  # ones would need the CSI sources).
  (cd "$MESOS_SRC/src" && find messages -name '*.proto' | sort |
    xargs "$protoc" -I. -I"$MESOS_SRC/include" -I"$protobuf" --cpp_out="$cache/gen")
  mark headers "$key"
fi

# Macros that change class layouts in libprocess: this build has SSL and
# libevent on.
MESOS_CXXFLAGS="-DUSE_SSL_SOCKET=1 -DUSE_LIBEVENT=1"
host=$cache/mesos-host
key="$(cat "$here/real-mesos/host.cpp" "$lib" | sha256sum)$(cat "$cache/.headers.stamp")"
if ! done_key host "$key"; then
  step "host program (in-process master and agent)"
  # The official library is a Python 2 extension: define the Python C-API
  # symbols it imports (never called).
  nm -D --undefined-only "$lib" | awk '{print $2}' | grep -E '^_?Py' |
    sed 's/@.*//' | sort -u | sed 's/.*/char &[64];/' > "$cache/python-symbols.c"
  gcc -c -fPIC "$cache/python-symbols.c" -o "$cache/python-symbols.o"
  # shellcheck disable=SC2086 # MESOS_CXXFLAGS is a list of flags.
  g++ -std=c++11 -O1 -w $MESOS_CXXFLAGS -DPICOJSON_USE_INT64 -D__STDC_FORMAT_MACROS \
    -I"$MESOS_SRC/src" -I"$cache/gen" -I"$prefix/include" -I"$tp" \
    "$here/real-mesos/host.cpp" "$cache/python-symbols.o" -rdynamic \
    -L"$prefix/lib" -L"$stubs" -lmesos -Wl,-rpath,"$prefix/lib:$stubs" \
    -Wl,--allow-shlib-undefined -lpthread -o "$host"
  mark host "$key"
fi

step "mesos-auth modules (ffi/mesos/build.sh)"
module=$cache/libmesos_auth_module.so
MESOS_EXTRA_CXXFLAGS="$MESOS_CXXFLAGS" bash "$repo/ffi/mesos/build.sh" "$prefix" "$module"

step "checks"
export MESOS_AUTH_HOST="$host" MESOS_AUTH_MODULE="$module" MESOS_AUTH_CACHE="$cache"
export LD_LIBRARY_PATH="$prefix/lib:$stubs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
python3 "$here/real-mesos/checks.py" "$@"
