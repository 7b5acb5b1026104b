#!/usr/bin/env bash
# Builds libmesos_auth_module.so (authenticator, authenticatees (CRAM-MD5,
# OAUTHBEARER, GSSAPI), authorizer and HTTP authenticator modules) against a
# Mesos installation. Needs MIT Kerberos's development files (libkrb5-dev):
# the library links libgssapi_krb5.
#   bash ffi/mesos/build.sh MESOS_PREFIX [OUT]
# MESOS_PREFIX: a Mesos 1.11 install configured with
# --enable-install-module-dependencies (include/, lib/libmesos.so,
# lib/mesos/3rdparty/include). Extra include directories (for example a
# source checkout's generated protobuf headers) can be passed in
# MESOS_EXTRA_CXXFLAGS; the official 1.11.0 build needs
# "-DUSE_SSL_SOCKET=1 -DUSE_LIBEVENT=1" there (libprocess class layouts).
# Mesos's headers are system headers here (-isystem): their own warnings are
# not ours.
set -euo pipefail
cd "$(dirname "$0")/../.."
mesos=${1:?usage: build.sh MESOS_PREFIX [OUT]}
target=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
out=${2:-$target/libmesos_auth_module.so}
# With ZooKeeper as a policy source (the authorizer's `zk_acls`) and GSSAPI
# (Kerberos) for the authenticator and the GSSAPI authenticatee.
cargo build -p mesos-auth-ffi --release --features zk,gssapi
# shellcheck disable=SC2086 # MESOS_EXTRA_CXXFLAGS is a list of flags.
g++ -std=c++17 -O2 -fPIC -shared -Wall -Wextra \
  -DPICOJSON_USE_INT64 -D__STDC_FORMAT_MACROS -DMESOS_AUTH_ZK -DMESOS_AUTH_GSSAPI \
  -isystem "$mesos/include" -isystem "$mesos/lib/mesos/3rdparty/include" ${MESOS_EXTRA_CXXFLAGS:-} \
  -Iffi/include ffi/mesos/authenticator.cpp ffi/mesos/authenticatee.cpp ffi/mesos/oauthbearer_authenticatee.cpp ffi/mesos/gssapi_authenticatee.cpp ffi/mesos/authorizer.cpp ffi/mesos/http_authenticator.cpp \
  -L"$mesos/lib" -lmesos \
  "$target"/release/libmesos_auth_ffi.a -lgssapi_krb5 -lpthread -ldl -lm \
  -Wl,--exclude-libs,ALL -o "$out"
for m in org_mesosauth_CramMd5Authenticator org_mesosauth_SaslAuthenticator org_mesosauth_CramMd5Authenticatee org_mesosauth_OAuthBearerAuthenticatee org_mesosauth_GssapiAuthenticatee org_mesosauth_AclAuthorizer org_mesosauth_HttpAuthenticator; do
  nm -D --defined-only "$out" | grep -qw "$m" || { echo "module symbol $m missing from $out"; exit 1; }
done
echo "built $out"
