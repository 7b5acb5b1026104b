// Mesos HttpAuthenticator module: HTTP Basic on a mesos-auth credentials
// file and/or Bearer tokens (JWTs checked against an issuer's JWKS), with
// the library's failure throttle and per-principal rate limits
// (Mesos's --rate_limits format), so the v1 HTTP APIs and the endpoints get
// the limits Mesos gives only to driver-based frameworks.
//
// Mesos creates one instance per realm it protects (--http_authenticators
// for the endpoints, --http_framework_authenticators for the v1 scheduler
// API), all with the same manifest parameters. Instances with identical
// parameters share one authenticator, so a principal's rate limit and
// failure count are one across realms, and each file is watched once.
//
// All request logic is in http_adapter.hpp (tested without Mesos by
// ffi/tests/c/http_module_host.cpp); this file is only the libprocess
// plumbing. Build: see README.md in this directory.

#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>

#include <mesos/mesos.hpp>
#include <mesos/module.hpp>

#include <mesos/module/http_authenticator.hpp>

#include <process/authenticator.hpp>
#include <process/future.hpp>
#include <process/http.hpp>

#include <stout/stringify.hpp>

#include "file_watcher.hpp"
#include "http_adapter.hpp"
#include "module_log.hpp"

namespace mesos_auth_module {

namespace authn = process::http::authentication;

static const char kModuleName[] = "org_mesosauth_HttpAuthenticator";

// One authenticator and its file watchers, shared by the realm instances
// created with the same parameters.
struct SharedHttp {
  const mesos_auth_audit *audit = nullptr;
  std::shared_ptr<HttpAuth> auth;
  std::string scheme = "Basic";  // the first scheme tried
  std::vector<std::unique_ptr<FileWatcher>> watchers;

  ~SharedHttp() {
    watchers.clear();  // stop reloading before the handles go
    auth.reset();
    mesos_auth_audit_free(audit);
  }
};

// Every request's audit event goes to the master's log: a refusal at
// WARNING with its reason (which the client never hears). No secret is in
// an event.
static void logEvent(void *, const char *json, size_t len) noexcept {
  const std::string event(json, len);
  // Successes and rate-limited requests are the bulk of the traffic: kept
  // out of the default log (the audit sinks record them).
  if (event.find("\"outcome\":\"authenticated\"") != std::string::npos ||
      event.find("\"outcome\":\"rate_limited\"") != std::string::npos) {
    VLOG(1) << kModuleName << ": " << event;
  } else {
    LOG(WARNING) << kModuleName << ": HTTP authentication refused: " << event;
  }
}

static std::optional<std::string> openShared(const Parameters &params, std::shared_ptr<SharedHttp> *out) {
  static std::mutex mutex;
  static std::map<Parameters, std::weak_ptr<SharedHttp>> instances;
  std::lock_guard<std::mutex> guard(mutex);
  auto found = instances.find(params);
  if (found != instances.end()) {
    if ((*out = found->second.lock())) return std::nullopt;
  }
  HttpConfig config;
  if (auto error = parseHttpParameters(params, &config)) return error;
  auto shared = std::make_shared<SharedHttp>();
  const mesos_auth_audit *glog = nullptr;
  if (mesos_auth_audit_new(&logEvent, nullptr, &glog) != MESOS_AUTH_RESULT_OK) return std::string("no audit sink");
  // glog always; the `audit_*` parameters' file and syslog besides.
  AuditSinks::Handle audit;
  std::optional<std::string> auditError = AuditSinks::open(config.audit, glog, &audit);
  mesos_auth_audit_free(glog);
  if (auditError) return auditError;
  shared->audit = audit.release();
  if (auto error = HttpAuth::open(config, &shared->auth, shared->audit)) return error;
  if (!config.credentialsPath) shared->scheme = "Bearer";
  if (config.reloadIntervalMs > 0) {
    std::shared_ptr<HttpAuth> auth = shared->auth;
    if (config.credentialsPath) {
      shared->watchers.emplace_back(new FileWatcher(
          "credentials", *config.credentialsPath, config.reloadIntervalMs,
          [auth](uint64_t *generation) { return auth->reloadCredentials(generation); }, logReloads(kModuleName)));
    }
    if (config.bearerJwksPath) {
      shared->watchers.emplace_back(new FileWatcher(
          "JWKS", *config.bearerJwksPath, config.reloadIntervalMs,
          [auth](uint64_t *generation) { return auth->reloadJwks(generation); }, logReloads(kModuleName)));
    }
    if (config.rateLimitsPath) {
      shared->watchers.emplace_back(new FileWatcher(
          "rate limits", *config.rateLimitsPath, config.reloadIntervalMs,
          [auth](uint64_t *generation) { return auth->reloadRateLimits(generation); }, logReloads(kModuleName)));
    }
  }
  instances[params] = shared;
  *out = std::move(shared);
  return std::nullopt;
}

// "ip:port" or "[ip6]:port" → the address alone: the throttle counts
// failures per peer address, and a client picks a new port per connection.
static std::string peerAddress(const std::string &client) {
  std::string s = client;
  size_t colon = s.rfind(':');
  if (colon != std::string::npos && s.find(':') != colon) {
    // IPv6: only a bracketed form carries a port.
    if (!s.empty() && s[0] == '[') {
      size_t close = s.find(']');
      return close == std::string::npos ? s : s.substr(1, close - 1);
    }
    return s;
  }
  return colon == std::string::npos ? s : s.substr(0, colon);
}

class HttpAuthenticator : public authn::Authenticator {
 public:
  explicit HttpAuthenticator(std::shared_ptr<SharedHttp> shared) : shared_(std::move(shared)) {}

  process::Future<authn::AuthenticationResult> authenticate(const process::http::Request &request) override {
    HttpRequest req;
    req.method = request.method;
    req.path = request.url.path;
    auto authorization = request.headers.find("Authorization");
    if (authorization != request.headers.end()) req.authorization = authorization->second;
    auto agent = request.headers.find("User-Agent");
    if (agent != request.headers.end()) req.userAgent = agent->second;
    if (request.client.isSome()) req.peer = peerAddress(stringify(request.client.get()));

    std::string error;
    HttpResult r = shared_->auth->authenticate(req, &error);
    if (!error.empty()) LOG(WARNING) << kModuleName << ": " << error << "; request refused";

    authn::AuthenticationResult result;
    if (r.status == 0) {
      result.principal = authn::Principal(Option<std::string>(r.principal));
    } else if (r.status == 401) {
      result.unauthorized = process::http::Unauthorized(r.challenges);
    } else {
      // AuthenticationResult has only 401 and 403; libprocess sends
      // `forbidden` as the response as it is, and the wire status line is
      // the Response's `status`, so 429 (and a Bearer 400) go out there.
      process::http::Forbidden refusal;
      if (r.status == 429) {
        refusal.code = 429;
        refusal.status = "429 Too Many Requests";
        refusal.body = "Too many requests; retry later.\n";
        refusal.headers["Retry-After"] = std::to_string(r.retryAfterSecs);
      } else if (r.status == 400) {
        refusal.code = 400;
        refusal.status = "400 Bad Request";
        refusal.body = "";
      }
      if (!r.challenges.empty()) {
        std::string joined;
        for (const auto &c : r.challenges) joined += (joined.empty() ? "" : ", ") + c;
        refusal.headers["WWW-Authenticate"] = joined;
      }
      result.forbidden = refusal;
    }
    return result;
  }

  std::string scheme() const override { return shared_->scheme; }

 private:
  std::shared_ptr<SharedHttp> shared_;
};

}  // namespace mesos_auth_module

static process::http::authentication::Authenticator *createHttpAuthenticator(const mesos::Parameters &parameters) {
  mesos_auth_module::Parameters params;
  for (const mesos::Parameter &p : parameters.parameter()) params.emplace_back(p.key(), p.value());
  std::shared_ptr<mesos_auth_module::SharedHttp> shared;
  if (std::optional<std::string> error = mesos_auth_module::openShared(params, &shared)) {
    // Mesos then reports "Error creating Module instance" and exits.
    std::cerr << mesos_auth_module::kModuleName << ": " << *error << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::HttpAuthenticator(std::move(shared));
}

// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<process::http::authentication::Authenticator> org_mesosauth_HttpAuthenticator(
    MESOS_MODULE_API_VERSION, MESOS_VERSION, "mesos-auth", "mesos-auth@example.org",
    "HTTP Basic authentication with failure throttling and per-principal rate limits, by mesos-auth.", nullptr,
    createHttpAuthenticator);
