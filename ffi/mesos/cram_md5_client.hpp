// The Mesos-independent half of the Authenticatee module: one CRAM-MD5
// client session (agent or framework side) as C++17 RAII over the mesos-auth
// C API. authenticatee.cpp adds only the libprocess plumbing (send
// AuthenticateMessage, exchange the Authentication*Message protobufs,
// complete the future), so everything here is exercised without Mesos by
// ffi/tests/c/module_host.cpp.
#ifndef MESOS_AUTH_CRAM_MD5_CLIENT_HPP
#define MESOS_AUTH_CRAM_MD5_CLIENT_HPP

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit_adapter.hpp"
#include "cram_md5_adapter.hpp"  // lastError, Outgoing, Outcome, Parameters
#include "mesos_auth.h"

namespace mesos_auth_module {

// What the OAUTHBEARER authenticatee module reads from its parameters.
struct OAuthBearerClientConfig {
  // `token_file`: a file holding the token (one line), read again when the
  // token read last is within 60 s of its `exp` (so a sidecar that renews it
  // before then is picked up), or every attempt for a token without `exp`.
  std::string tokenFile;
  // `token_command`: a shell command printing the token, run likewise.
  // Exactly one of the two.
  std::string tokenCommand;
  // `principal`: the principal to authenticate as (the token must map to
  // it). Without it, the principal of the credential Mesos passes
  // (--credential); its secret is never used.
  std::string principal;
  // `audit_log`, ...: as the CRAM-MD5 authenticatee (audit_adapter.hpp).
  AuditConfig audit;
};

// Reads the parameters; unknown keys, repeated keys and bad values are
// errors.
inline std::optional<std::string> parseOAuthBearerClientParameters(const Parameters &params,
                                                                   OAuthBearerClientConfig *config) {
  std::vector<std::string> seen;
  for (const auto &kv : params) {
    const std::string &key = kv.first;
    const std::string &value = kv.second;
    for (const auto &s : seen)
      if (s == key) return "parameter '" + key + "' given twice";
    seen.push_back(key);
    std::optional<std::string> error;
    if (key == "token_file" || key == "token_command" || key == "principal") {
      if (value.empty()) return "parameter '" + key + "' is empty";
      (key == "token_file" ? config->tokenFile : key == "token_command" ? config->tokenCommand : config->principal) =
          value;
    } else if (parseAuditParameter(key, value, &config->audit, &error)) {
      if (error) return error;
    } else {
      return "unknown parameter '" + key + "'";
    }
  }
  if (config->tokenFile.empty() == config->tokenCommand.empty())
    return "give exactly one of the parameters 'token_file' and 'token_command'";
  return std::nullopt;
}

// What the GSSAPI (Kerberos V5) authenticatee module reads from its
// parameters.
struct GssapiClientConfig {
  // `principal`: the Mesos principal to authenticate as (sent as the
  // authorization identity; the master's rules must map the Kerberos name
  // to it). Without it, the principal of the credential Mesos passes.
  std::string principal;
  // `client_principal`: the Kerberos name whose credentials are used
  // (`agent/host@REALM`). Default: the ticket cache's principal, or the
  // client keytab's first.
  std::string clientPrincipal;
  // `keytab`: a client keytab MIT Kerberos gets (and renews) tickets from
  // itself (KRB5_CLIENT_KTNAME). `ccache`: a credentials cache kept fresh by
  // someone else (kinit, k5start; KRB5CCNAME). With a keytab and no ccache,
  // the tickets stay in this process's memory (`MEMORY:` cache). Both
  // empty: the process's environment decides.
  std::string keytab;
  std::string ccache;
  // `service`: the master's service name (default `mesos`), or a full
  // Kerberos name with a `/` (then `master_host` is not used).
  std::string service = "mesos";
  // `master_host`: the host part of the master's service principal
  // (`mesos/<master_host>@REALM`). Default: the name the master's address
  // resolves back to, looked up at each attempt (so a failover to another
  // master finds its key).
  std::string masterHost;
  // `audit_log`, ...: as the CRAM-MD5 authenticatee (audit_adapter.hpp).
  AuditConfig audit;
};

// Reads the parameters; unknown keys, repeated keys and bad values are
// errors.
inline std::optional<std::string> parseGssapiClientParameters(const Parameters &params, GssapiClientConfig *config) {
  std::vector<std::string> seen;
  for (const auto &kv : params) {
    const std::string &key = kv.first;
    const std::string &value = kv.second;
    for (const auto &s : seen)
      if (s == key) return "parameter '" + key + "' given twice";
    seen.push_back(key);
    std::optional<std::string> error;
    std::string *field = key == "principal"          ? &config->principal
                         : key == "client_principal" ? &config->clientPrincipal
                         : key == "keytab"           ? &config->keytab
                         : key == "ccache"           ? &config->ccache
                         : key == "service"          ? &config->service
                         : key == "master_host"      ? &config->masterHost
                                                     : nullptr;
    if (field != nullptr) {
      if (value.empty()) return "parameter '" + key + "' is empty";
      *field = value;
    } else if (parseAuditParameter(key, value, &config->audit, &error)) {
      if (error) return error;
    } else {
      return "unknown parameter '" + key + "'";
    }
  }
  const bool fullName = config->service.find_first_of("/@") != std::string::npos;
  if (fullName && !config->masterHost.empty())
    return "parameter 'master_host' goes with a bare 'service' name (`mesos`), not '" + config->service + "'";
  if (config->masterHost.find_first_of("/@") != std::string::npos)
    return "parameter 'master_host' must be a host name";
  return std::nullopt;
}

struct FreeTokenSource {
  void operator()(mesos_auth_token_source *p) const noexcept { mesos_auth_token_source_free(p); }
};

// The token source of the OAUTHBEARER parameters (`token_file` or
// `token_command`); nothing is read yet.
inline std::optional<std::string> makeTokenSource(const OAuthBearerClientConfig &config,
                                                  std::unique_ptr<mesos_auth_token_source, FreeTokenSource> *out) {
  mesos_auth_token_source *s = nullptr;
  mesos_auth_result r = mesos_auth_token_source_new(config.tokenFile.data(), config.tokenFile.size(),
                                                    config.tokenCommand.data(), config.tokenCommand.size(), &s);
  if (r != MESOS_AUTH_RESULT_OK) return lastError("the token source", r);
  out->reset(s);
  return std::nullopt;
}

// One authentication attempt against one master. Not thread-safe: the
// module's libprocess actor serialises calls.
class ClientSession {
 public:
  struct Free {
    void operator()(mesos_auth_authenticatee *p) const noexcept { mesos_auth_authenticatee_free(p); }
  };

  // `secret` is copied by the library (and wiped there when done).
  // `audit` (may be NULL) receives the attempt's event; the session holds
  // its own reference.
  static std::optional<std::string> start(const std::string &principal, const std::string &secret,
                                          std::unique_ptr<ClientSession> *out,
                                          const mesos_auth_audit *audit = nullptr) {
    mesos_auth_authenticatee *s = nullptr;
    mesos_auth_result r =
        mesos_auth_authenticatee_new(principal.data(), principal.size(),
                                     reinterpret_cast<const uint8_t *>(secret.data()), secret.size(), audit, &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting a CRAM-MD5 client session", r);
    out->reset(new ClientSession(s));
    return std::nullopt;
  }

  // An OAUTHBEARER session (RFC 7628) for `principal`, with a token read
  // now from `tokenFile` or `tokenCommand` (exactly one non-empty) by the
  // library, so the token never passes through here. Only OAUTHBEARER is
  // used: a master that does not offer it ends the session (no fallback
  // to CRAM-MD5).
  static std::optional<std::string> startOAuthBearer(const std::string &principal, const std::string &tokenFile,
                                                     const std::string &tokenCommand,
                                                     std::unique_ptr<ClientSession> *out,
                                                     const mesos_auth_audit *audit = nullptr) {
    mesos_auth_authenticatee *s = nullptr;
    mesos_auth_result r = mesos_auth_authenticatee_new_oauthbearer_source(
        principal.data(), principal.size(), tokenFile.data(), tokenFile.size(), tokenCommand.data(),
        tokenCommand.size(), audit, &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting an OAUTHBEARER client session", r);
    out->reset(new ClientSession(s, "OAUTHBEARER"));
    return std::nullopt;
  }

#ifdef MESOS_AUTH_GSSAPI
  // A GSSAPI (Kerberos V5) session as `principal` to `service` at `host`
  // (empty: `service` is a whole name), with the Kerberos credentials of
  // `clientName` (empty: the cache's default) from the environment the
  // module set up (KRB5CCNAME, KRB5_CLIENT_KTNAME). Only GSSAPI is used: a
  // master that does not offer it ends the session (no fallback).
  static std::optional<std::string> startGssapi(const std::string &principal, const std::string &service,
                                                const std::string &host, const std::string &clientName,
                                                std::unique_ptr<ClientSession> *out,
                                                const mesos_auth_audit *audit = nullptr) {
    mesos_auth_authenticatee *s = nullptr;
    mesos_auth_result r = mesos_auth_authenticatee_new_gssapi(principal.data(), principal.size(), service.data(),
                                                              service.size(), host.data(), host.size(),
                                                              clientName.data(), clientName.size(), audit, &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting a GSSAPI client session", r);
    out->reset(new ClientSession(s, "GSSAPI"));
    return std::nullopt;
  }
#endif

  // As startOAuthBearer, with the token from `source`, which keeps it until
  // shortly before its `exp` (60 s): a token command is not run, nor the
  // file read, on every attempt. `source` is used by one call at a time.
  static std::optional<std::string> startOAuthBearerCached(const std::string &principal,
                                                           mesos_auth_token_source *source,
                                                           std::unique_ptr<ClientSession> *out,
                                                           const mesos_auth_audit *audit = nullptr) {
    mesos_auth_authenticatee *s = nullptr;
    mesos_auth_result r =
        mesos_auth_authenticatee_new_oauthbearer_cached(principal.data(), principal.size(), source, audit, &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting an OAUTHBEARER client session", r);
    out->reset(new ClientSession(s, "OAUTHBEARER"));
    return std::nullopt;
  }

  // AuthenticationMechanismsMessage: the master's mechanisms.
  void onMechanisms(const std::vector<std::string> &mechanisms) {
    std::string list;
    for (const auto &m : mechanisms) list += (list.empty() ? "" : ",") + m;
    feed(MESOS_AUTH_MESSAGE_KIND_MECHANISMS, list, "");
  }
  // AuthenticationStepMessage: the challenge.
  void onStep(const std::string &data) { feed(MESOS_AUTH_MESSAGE_KIND_STEP, "", data); }
  void onCompleted() { feed(MESOS_AUTH_MESSAGE_KIND_COMPLETED, "", ""); }
  void onFailed() { feed(MESOS_AUTH_MESSAGE_KIND_FAILED, "", ""); }
  void onError(const std::string &error) { feed(MESOS_AUTH_MESSAGE_KIND_ERROR, "", error); }
  // The master went away or the attempt was discarded or timed out.
  void abort(const std::string &why) {
    if (error_.empty()) error_ = why;
    broken_ = true;
  }

  // Messages to send to the master now, in order: START (`mechanisms[0]`
  // and `data`), STEP (`data`).
  std::vector<Outgoing> drain() {
    std::vector<Outgoing> v;
    mesos_auth_message m{};
    while (mesos_auth_authenticatee_poll_output(handle_.get(), &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      Outgoing o{m.kind, {}, std::string(reinterpret_cast<const char *>(m.data.data), m.data.len)};
      if (m.mechanism.len > 0) o.mechanisms.emplace_back(m.mechanism.data, m.mechanism.len);
      v.push_back(std::move(o));
    }
    return v;
  }

  // Completed: authenticated (future true). Failed: refused, or the master
  // does not offer this session's mechanism (OAUTHBEARER, GSSAPI), final
  // (future false; `error()` says why for the latter). Error: failed
  // future, Mesos retries.
  Outcome outcome() const {
    if (broken_) return Outcome::Error;
    uint32_t st = MESOS_AUTH_STATUS_ERROR;
    if (mesos_auth_authenticatee_status(handle_.get(), &st) != MESOS_AUTH_RESULT_OK) return Outcome::Error;
    switch (st) {
      case MESOS_AUTH_STATUS_PENDING: return Outcome::Pending;
      case MESOS_AUTH_STATUS_COMPLETED: return Outcome::Completed;
      case MESOS_AUTH_STATUS_FAILED: return Outcome::Failed;
      default: return Outcome::Error;
    }
  }

  const std::string &error() const { return error_; }

 private:
  explicit ClientSession(mesos_auth_authenticatee *s, const char *mechanism = "CRAM-MD5")
      : handle_(s), mechanism_(mechanism) {}

  void feed(uint32_t kind, const std::string &mechanism, const std::string &data) {
    mesos_auth_message m{kind,
                         {mechanism.data(), mechanism.size()},
                         {reinterpret_cast<const uint8_t *>(data.data()), data.size()}};
    mesos_auth_result r = mesos_auth_authenticatee_feed(handle_.get(), &m);
    if (r != MESOS_AUTH_RESULT_OK) {
      if (error_.empty()) error_ = lastError(mechanism_, r);
      // A master that does not offer OAUTHBEARER or GSSAPI: the library
      // ends the session FAILED (no fallback). Left so, the future is
      // `false`, which Mesos treats as final (an agent exits, a driver
      // aborts) rather than retrying against a master that cannot change
      // its offer between attempts. CRAM-MD5 keeps Mesos's own behaviour
      // (an error, retried), as its authenticatee does.
      uint32_t st = MESOS_AUTH_STATUS_ERROR;
      if (kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS && std::string(mechanism_) != "CRAM-MD5" &&
          mesos_auth_authenticatee_status(handle_.get(), &st) == MESOS_AUTH_RESULT_OK &&
          st == MESOS_AUTH_STATUS_FAILED)
        return;
      // Input refused before it reached the session (bad UTF-8): end it, so
      // the caller does not wait forever.
      broken_ = true;
    }
  }

  std::unique_ptr<mesos_auth_authenticatee, Free> handle_;
  const char *mechanism_;  // for error messages
  std::string error_;
  bool broken_ = false;
};

}  // namespace mesos_auth_module

#endif  // MESOS_AUTH_CRAM_MD5_CLIENT_HPP
