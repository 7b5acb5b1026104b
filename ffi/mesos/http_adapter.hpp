// The Mesos-independent half of the HTTP authenticator module: module
// parameters and one shared authenticator (Basic on a credentials file, the
// failure throttle, per-principal rate limits), as C++17 RAII types over the
// mesos-auth C API. http_authenticator.cpp adds only the libprocess plumbing
// (reading the request's headers, building the AuthenticationResult), so
// everything here is exercised without Mesos by ffi/tests/c/module_host.cpp.
#ifndef MESOS_AUTH_HTTP_ADAPTER_HPP
#define MESOS_AUTH_HTTP_ADAPTER_HPP

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit_adapter.hpp"
#include "cram_md5_adapter.hpp"
#include "mesos_auth.h"

namespace mesos_auth_module {

// What the HTTP authenticator module reads from its parameters.
struct HttpConfig {
  // `realm`: the realm named in `WWW-Authenticate` challenges. Mesos creates
  // one instance per realm it protects with the same parameters, so the
  // module cannot learn the realm; default "mesos".
  std::string realm = "mesos";
  // `credentials`: the Basic credentials file (JSON, permissions checked).
  // An HTTP authenticator module is given no credentials by Mesos: without
  // this file there is no Basic (then `bearer_*` must be given).
  std::optional<std::string> credentialsPath;
  bool lenient = false;                   // `credentials_lenient`
  bool allowInsecurePermissions = false;  // `allow_insecure_permissions`
  // `bearer_config` and `bearer_jwks`: bearer tokens (JWTs) checked by the
  // library's validator: its configuration (issuers, audiences, algorithms,
  // principal rules) and the issuer's key set (JWKS), both JSON files. Tried
  // after Basic.
  std::optional<std::string> bearerConfigPath;
  std::optional<std::string> bearerJwksPath;
  // `rate_limits`: a file in Mesos's --rate_limits JSON format; an
  // authenticated principal over its rate gets 429 with Retry-After.
  std::optional<std::string> rateLimitsPath;
  // `reload_interval_ms`: check the credentials, JWKS and rate-limit files
  // this often and reload what changed (0: never, the default).
  uint64_t reloadIntervalMs = 0;
  // The failure throttle, per peer address and principal, as the CRAM-MD5
  // module's: `throttle_free_failures`, `throttle_base_ms`, `throttle_max_ms`.
  uint64_t throttleFreeFailures = 3;
  uint64_t throttleBaseMs = 1000;
  uint64_t throttleMaxMs = 60000;
  // `audit_log`, `audit_log_max_bytes`, `audit_log_keep`, `audit_fsync`,
  // `audit_syslog`: one event per request to a file and/or syslog besides
  // the master's log (audit_adapter.hpp).
  AuditConfig audit;
};

// Reads the parameters; unknown keys, repeated keys and bad values are
// errors (a typo must not silently fall back to a default).
inline std::optional<std::string> parseHttpParameters(const Parameters &params, HttpConfig *config) {
  std::vector<std::string> seen;
  for (const auto &kv : params) {
    const std::string &key = kv.first;
    const std::string &value = kv.second;
    for (const auto &s : seen)
      if (s == key) return "parameter '" + key + "' given twice";
    seen.push_back(key);
    if (key == "realm") {
      // A realm is a quoted-string in the challenge: keep it plain.
      if (value.empty() || value.size() > 128) return "parameter 'realm' must be 1..128 characters";
      for (unsigned char c : value)
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
          return "parameter 'realm' must be printable ASCII without '\"' or '\\'";
      config->realm = value;
    } else if (key == "rate_limits") {
      if (value.empty()) return "parameter 'rate_limits' is empty";
      config->rateLimitsPath = value;
    } else if (std::optional<std::string> error; parseSharedParameter(key, value, config, &error)) {
      if (error) return error;
    } else {
      return "unknown parameter '" + key + "'";
    }
  }
  if (config->bearerConfigPath.has_value() != config->bearerJwksPath.has_value())
    return "parameters 'bearer_config' and 'bearer_jwks' go together";
  if (!config->credentialsPath && !config->bearerJwksPath)
    return "no scheme: give 'credentials' (Basic) and/or 'bearer_config' with 'bearer_jwks' (Bearer)";
  if (config->throttleMaxMs < config->throttleBaseMs)
    return "parameter 'throttle_max_ms' is below 'throttle_base_ms'";
  return std::nullopt;
}

// One request as the module sees it: views into libprocess's Request.
struct HttpRequest {
  std::string method;
  std::string path;
  std::optional<std::string> authorization;
  std::string peer;
  std::string userAgent;
};

// What the module answers: 0 (authenticated, `principal` set), or the
// status to refuse with: 401 (with `challenges`, in order), 400 or 403 (a
// Bearer error, with its challenges) or 429 (rate limited or throttled, with
// `retryAfterSecs`).
struct HttpResult {
  uint32_t status = 401;
  std::string principal;
  std::vector<std::string> challenges;
  uint64_t retryAfterSecs = 0;
};

// The authenticator shared by every request of every realm instance's
// threads: the C handle is thread-safe and immutable; the credentials and
// rate-limit handles inside it reload in place.
class HttpAuth {
 public:
  struct FreeCreds {
    void operator()(const mesos_auth_credentials *p) const noexcept { mesos_auth_credentials_free(p); }
  };
  struct FreeLimiter {
    void operator()(const mesos_auth_ratelimiter *p) const noexcept { mesos_auth_ratelimiter_free(p); }
  };
  struct FreeThrottle {
    void operator()(const mesos_auth_throttle *p) const noexcept { mesos_auth_throttle_free(p); }
  };
  struct FreeAuth {
    void operator()(const mesos_auth_http_authenticator *p) const noexcept { mesos_auth_http_authenticator_free(p); }
  };
  struct FreeBuilder {
    void operator()(mesos_auth_http_builder *p) const noexcept { mesos_auth_http_builder_free(p); }
  };
  struct FreeOutcome {
    void operator()(mesos_auth_http_outcome *p) const noexcept { mesos_auth_http_outcome_free(p); }
  };

  // `audit` (may be NULL) receives one event per request; it must outlive
  // the authenticator.
  static std::optional<std::string> open(const HttpConfig &config, std::shared_ptr<HttpAuth> *out,
                                         const mesos_auth_audit *audit = nullptr) {
    std::shared_ptr<HttpAuth> self(new HttpAuth());
    self->realm_ = config.realm;
    const mesos_auth_throttle *t = nullptr;
    mesos_auth_result r = mesos_auth_throttle_new(static_cast<uint32_t>(config.throttleFreeFailures),
                                                  config.throttleBaseMs, config.throttleMaxMs, &t);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("creating the failure throttle", r);
    self->throttle_.reset(t);

    if (config.credentialsPath) {
      uint32_t flags = config.lenient ? MESOS_AUTH_CREDENTIALS_LENIENT : 0;
      if (config.allowInsecurePermissions) flags |= MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS;
      const std::string &cp = *config.credentialsPath;
      const mesos_auth_credentials *c = nullptr;
      r = mesos_auth_credentials_load_path(cp.data(), cp.size(), MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, flags, nullptr,
                                           &c);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("loading credentials", r);
      self->creds_.reset(c);
    }

    if (config.bearerJwksPath) {
      if (auto e = loadBearer(*config.bearerConfigPath, *config.bearerJwksPath, &self->bearer_)) return e;
      self->jwksPath_ = *config.bearerJwksPath;
    }

    if (config.rateLimitsPath) {
      const std::string &rp = *config.rateLimitsPath;
      const mesos_auth_ratelimiter *l = nullptr;
      r = mesos_auth_ratelimiter_load_path(rp.data(), rp.size(), &l);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("loading rate limits", r);
      self->limiter_.reset(l);
    }

    mesos_auth_http_builder *b = nullptr;
    r = mesos_auth_http_builder_new(config.realm.data(), config.realm.size(), &b);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("creating the HTTP authenticator", r);
    std::unique_ptr<mesos_auth_http_builder, FreeBuilder> builder(b);
    if ((self->creds_ && (r = mesos_auth_http_builder_add_basic(b, self->creds_.get())) != MESOS_AUTH_RESULT_OK) ||
        (self->bearer_ && (r = mesos_auth_http_builder_add_bearer(b, self->bearer_.get())) != MESOS_AUTH_RESULT_OK) ||
        (r = mesos_auth_http_builder_set_throttle(b, self->throttle_.get())) != MESOS_AUTH_RESULT_OK ||
        (self->limiter_ && (r = mesos_auth_http_builder_set_ratelimiter(b, self->limiter_.get())) !=
                               MESOS_AUTH_RESULT_OK) ||
        (audit != nullptr && (r = mesos_auth_http_builder_set_audit(b, audit)) != MESOS_AUTH_RESULT_OK))
      return lastError("configuring the HTTP authenticator", r);
    const mesos_auth_http_authenticator *a = nullptr;
    r = mesos_auth_http_builder_build(b, &a);  // the builder is still freed (by `builder`)
    if (r != MESOS_AUTH_RESULT_OK) return lastError("building the HTTP authenticator", r);
    self->auth_.reset(a);
    *out = std::move(self);
    return std::nullopt;
  }

  // Authenticates one request; a failure inside the library is a 401 (fail
  // closed) with the detail in `*error`.
  HttpResult authenticate(const HttpRequest &req, std::string *error) const {
    HttpResult result;
    result.challenges.push_back(fallbackChallenge());
    mesos_auth_http_request view{};
    view.method = str(req.method);
    view.path = str(req.path);
    if (req.authorization) {
      view.authorization = str(*req.authorization);
      view.authorization_count = 1;
    }
    view.peer = str(req.peer);
    view.user_agent = str(req.userAgent);
    mesos_auth_http_outcome *o = nullptr;
    mesos_auth_result r = mesos_auth_http_authenticate(auth_.get(), &view, &o);
    if (r != MESOS_AUTH_RESULT_OK) {
      *error = lastError("authenticating an HTTP request", r);
      return result;
    }
    std::unique_ptr<mesos_auth_http_outcome, FreeOutcome> outcome(o);
    uint32_t status = 401;
    if ((r = mesos_auth_http_outcome_status(o, &status)) != MESOS_AUTH_RESULT_OK) {
      *error = lastError("reading an HTTP outcome", r);
      return result;
    }
    if (status == 0) {
      mesos_auth_str p{};
      if ((r = mesos_auth_http_outcome_principal(o, &p)) != MESOS_AUTH_RESULT_OK || p.data == nullptr) {
        *error = lastError("reading the authenticated principal", r);
        return result;
      }
      result.status = 0;
      result.principal.assign(p.data, p.len);
      result.challenges.clear();
    } else if (status == 429) {
      uint64_t secs = 1;
      if ((r = mesos_auth_http_outcome_retry_after_secs(o, &secs)) != MESOS_AUTH_RESULT_OK) {
        *error = lastError("reading Retry-After", r);
        return result;
      }
      result.status = 429;
      result.retryAfterSecs = secs == 0 ? 1 : secs;
      result.challenges.clear();
    } else {
      // 401, or 400/403 for a Bearer error; anything unexpected stays 401.
      if (status == 400 || status == 403) result.status = status;
      size_t n = 0;
      if (mesos_auth_http_outcome_challenge_count(o, &n) == MESOS_AUTH_RESULT_OK && n > 0) {
        result.challenges.clear();
        for (size_t i = 0; i < n; i++) {
          mesos_auth_str c{};
          if (mesos_auth_http_outcome_challenge(o, i, &c) == MESOS_AUTH_RESULT_OK && c.data != nullptr)
            result.challenges.emplace_back(c.data, c.len);
        }
        if (result.challenges.empty()) result.challenges.push_back(fallbackChallenge());
      }
    }
    return result;
  }

  // Re-reads the JWKS file (an issuer's key rotation).
  std::optional<std::string> reloadJwks(uint64_t *generation) const {
    if (!bearer_) return std::string("no bearer tokens configured");
    return reloadBearerJwks(bearer_.get(), jwksPath_, generation);
  }

  std::optional<std::string> reloadCredentials(uint64_t *generation) const {
    if (!creds_) return std::string("no credentials configured");
    mesos_auth_result r = mesos_auth_credentials_reload(creds_.get(), generation);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("reloading credentials", r);
    return std::nullopt;
  }

  std::optional<std::string> reloadRateLimits(uint64_t *generation) const {
    if (!limiter_) return std::string("no rate limits configured");
    mesos_auth_result r = mesos_auth_ratelimiter_reload(limiter_.get(), generation);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("reloading rate limits", r);
    return std::nullopt;
  }

  const std::string &realm() const { return realm_; }

 private:
  HttpAuth() = default;

  static mesos_auth_str str(const std::string &s) {
    mesos_auth_str v{};
    v.data = s.data();
    v.len = s.size();
    return v;
  }

  std::string fallbackChallenge() const { return "Basic realm=\"" + realm_ + "\""; }

  std::string jwksPath_;

  std::string realm_ = "mesos";
  std::unique_ptr<const mesos_auth_throttle, FreeThrottle> throttle_;
  std::unique_ptr<const mesos_auth_credentials, FreeCreds> creds_;
  std::unique_ptr<const mesos_auth_bearer, FreeBearer> bearer_;
  std::unique_ptr<const mesos_auth_ratelimiter, FreeLimiter> limiter_;
  std::unique_ptr<const mesos_auth_http_authenticator, FreeAuth> auth_;
};

}  // namespace mesos_auth_module

#endif  // MESOS_AUTH_HTTP_ADAPTER_HPP
