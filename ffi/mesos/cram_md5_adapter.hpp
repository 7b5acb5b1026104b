// The Mesos-independent half of the CRAM-MD5 authenticator module: module
// parameters, the credential store and one session, as C++17 RAII types over
// the mesos-auth C API. authenticator.cpp adds only the libprocess plumbing
// (receiving and sending the protobuf messages, completing the future), so
// everything here is exercised without Mesos by ffi/tests/c/module_host.cpp.
//
// No exceptions: results are returned as values, as Mesos's Try would carry
// them.
#ifndef MESOS_AUTH_CRAM_MD5_ADAPTER_HPP
#define MESOS_AUTH_CRAM_MD5_ADAPTER_HPP

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit_adapter.hpp"
#include "mesos_auth.h"

namespace mesos_auth_module {

// The detail of the last failure on this thread, prefixed by `what`.
inline std::string lastError(const std::string &what, mesos_auth_result r) {
  char buf[512];
  size_t n = 0;
  std::string detail;
  if (mesos_auth_last_error(buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK) detail.assign(buf, n);
  char msg[128];
  std::string desc;
  if (mesos_auth_result_message(static_cast<uint32_t>(r), msg, sizeof msg, &n) == MESOS_AUTH_RESULT_OK)
    desc.assign(msg, n);
  return what + ": " + desc + (detail.empty() ? "" : " (" + detail + ")");
}

// Module parameters (the manifest's key/value list), in order.
using Parameters = std::vector<std::pair<std::string, std::string>>;

// What the module reads from its parameters.
// Where a policy comes from in ZooKeeper (`zk_*` parameters), for a
// library built with the `zk` feature (MESOS_AUTH_ZK defined).
struct ZkSource {
  // `zk_acls` (authorizer) or `zk_credentials` (authenticator): the
  // znode, `zk://host:port[,host:port...]/path` (as `mesos-auth zk push`
  // writes it). Empty: no ZooKeeper.
  std::string url;
  // `zk_startup_timeout_ms`: wait this long at start-up for a valid policy
  // from ZooKeeper, and refuse to start without one (default 10000). 0:
  // start at once with the local file serving until ZooKeeper delivers.
  uint64_t startupTimeoutMs = 10000;
  // `zk_fail_closed_after_ms`: deny every request after this long without
  // ZooKeeper (0, the default: keep serving the last good policy).
  uint64_t failClosedAfterMs = 0;
  // `zk_session_timeout_ms` (0: the library's 10000).
  uint64_t sessionTimeoutMs = 0;
  // `zk_tls_ca`, `zk_tls_cert`, `zk_tls_key`: TLS to ZooKeeper's secure
  // port (PEM files); `zk_sasl_user`, `zk_sasl_password_file`: SASL
  // DIGEST-MD5.
  std::string tlsCa, tlsCert, tlsKey, saslUser, saslPasswordFile;
};

// Reads one `zk_*` key (`urlKey` names the znode's); true if `key` is one
// (then `*error` may be set).
inline bool parseZkParameter(const std::string &key, const std::string &value, const char *urlKey, ZkSource *zk,
                             std::optional<std::string> *error) {
  auto number = [&](uint64_t *out) {
    uint64_t n = 0;
    bool ok = !value.empty() && value.size() <= 9;
    for (char c : value) {
      if (c < '0' || c > '9') ok = false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (ok) *out = n;
    else *error = "parameter '" + key + "' must be 0..999999999";
  };
  auto text = [&](std::string *out) {
    if (value.empty()) *error = "parameter '" + key + "' is empty";
    *out = value;
  };
  if (key == urlKey) text(&zk->url);
  else if (key == "zk_startup_timeout_ms") number(&zk->startupTimeoutMs);
  else if (key == "zk_fail_closed_after_ms") number(&zk->failClosedAfterMs);
  else if (key == "zk_session_timeout_ms") number(&zk->sessionTimeoutMs);
  else if (key == "zk_tls_ca") text(&zk->tlsCa);
  else if (key == "zk_tls_cert") text(&zk->tlsCert);
  else if (key == "zk_tls_key") text(&zk->tlsKey);
  else if (key == "zk_sasl_user") text(&zk->saslUser);
  else if (key == "zk_sasl_password_file") text(&zk->saslPasswordFile);
  else return false;
  return true;
}

#ifdef MESOS_AUTH_ZK
// The C API's configuration for `zk` (views into its strings).
inline mesos_auth_zk_config zkConfig(const ZkSource &zk) {
  auto view = [](const std::string &s) { return mesos_auth_str{s.data(), s.size()}; };
  auto ms = [](uint64_t v) { return static_cast<uint32_t>(v); };  // parsed as at most 9 digits
  mesos_auth_zk_config c{};
  c.tls_ca_file = view(zk.tlsCa);
  c.tls_cert_file = view(zk.tlsCert);
  c.tls_key_file = view(zk.tlsKey);
  c.sasl_user = view(zk.saslUser);
  c.sasl_password_file = view(zk.saslPasswordFile);
  c.session_timeout_ms = ms(zk.sessionTimeoutMs);
  c.startup_timeout_ms = ms(zk.startupTimeoutMs);
  c.fail_closed_after_ms = ms(zk.failClosedAfterMs);
  return c;
}

struct FreeZkWatch {
  void operator()(const mesos_auth_zk_watch *w) const noexcept { mesos_auth_zk_watch_free(w); }
};
#endif

struct Config {
  // `credentials`: a credentials file read by mesos-auth (permissions
  // checked). Without it, the credentials Mesos parsed from --credentials
  // are used.
  std::optional<std::string> credentialsPath;
  // `credentials_lenient`: "true" accepts what Mesos accepts, with findings.
  bool lenient = false;
  // `allow_insecure_permissions`: "true" skips the file permission check.
  bool allowInsecurePermissions = false;
  // `timeout_ms`: how long one exchange may take (default 15000, as Mesos).
  uint64_t timeoutMs = 15000;
  // `reload_interval_ms`: with `credentials`, check the file this often and
  // reload it when it changed (0: never, the default). Mesos reads
  // --credentials once; this rotates secrets without a restart.
  uint64_t reloadIntervalMs = 0;
  // `max_sessions`: exchanges in flight at once, across all peers; more are
  // refused at once (a flood of half-open sessions cannot exhaust the
  // master). Default 1024.
  uint64_t maxSessions = 1024;
  // `throttle_free_failures`, `throttle_base_ms`, `throttle_max_ms`: the
  // library's failure throttle, per peer address and principal: after the
  // free failures, each failure doubles the wait from base up to max, and an
  // attempt inside the wait is refused without an exchange. Defaults 3, 1000,
  // 60000.
  uint64_t throttleFreeFailures = 3;
  uint64_t throttleBaseMs = 1000;
  uint64_t throttleMaxMs = 60000;
  // `audit_log`, `audit_log_max_bytes`, `audit_log_keep`, `audit_fsync`,
  // `audit_syslog`: where one event per authentication goes besides glog
  // (audit_adapter.hpp).
  AuditConfig audit;
  // `bearer_config` and `bearer_jwks`: OAUTHBEARER (RFC 7628) with JWTs
  // checked by the library's validator (the HTTP module's parameters, same
  // files). With them, CRAM-MD5 is offered only when there are credentials
  // (`credentials`, or Mesos's --credentials).
  std::optional<std::string> bearerConfigPath;
  std::optional<std::string> bearerJwksPath;
  // `gssapi_keytab` and `gssapi_rules`: GSSAPI (Kerberos V5, RFC 4752),
  // offered first. The keytab holds the service key (`mesos/<host>@REALM`);
  // the rules file maps Kerberos names to Mesos principals (Hadoop's
  // `auth_to_local` notation, one rule a line), a name no rule maps is
  // refused. Needs the library built with `gssapi` (MESOS_AUTH_GSSAPI).
  std::optional<std::string> gssapiKeytab;
  std::optional<std::string> gssapiRulesPath;
  // `gssapi_service`: the service accepted for: a bare name (`mesos`: that
  // service on any host the keytab holds a key for), `mesos@host`, or a
  // full Kerberos name with a `/`. Default `mesos`.
  std::string gssapiService = "mesos";
  // `gssapi_realm`: the realm the rules' `DEFAULT` maps (default: none).
  std::string gssapiRealm;
  // `zk_credentials` and the `zk_*` connection keys: the credentials from
  // ZooKeeper (watched; each valid version swapped in, an invalid one
  // refused with the last good one serving). Fail-closed is the
  // authorizer's only: `zk_fail_closed_after_ms` is refused here.
  ZkSource zk;
};

// A decimal parameter in [min, 999999999].
inline std::optional<std::string> parseNumber(const std::string &key, const std::string &value, uint64_t min,
                                              uint64_t *out) {
  std::string range = "parameter '" + key + "' must be " + std::to_string(min) + "..999999999";
  if (value.empty() || value.size() > 9) return range;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return range;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n < min) return range;
  *out = n;
  return std::nullopt;
}

inline bool parseBool(const std::string &v, bool *out) {
  if (v == "true") {
    *out = true;
    return true;
  }
  if (v == "false") {
    *out = false;
    return true;
  }
  return false;
}

// A JWKS or bearer configuration: public material, size-bounded (the
// library refuses a larger document anyway).
inline std::optional<std::string> readPublicFile(const std::string &path, std::string *out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot open '" + path + "'";
  std::string data;
  char buf[8192];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > (4u << 20)) return "'" + path + "' is larger than 4 MiB";
  }
  if (in.bad()) return "cannot read '" + path + "'";
  *out = std::move(data);
  return std::nullopt;
}

struct FreeBearer {
  void operator()(const mesos_auth_bearer *p) const noexcept { mesos_auth_bearer_free(p); }
};

// The bearer-token validator from the `bearer_config` and `bearer_jwks`
// files (shared by the HTTP and SASL authenticator modules).
inline std::optional<std::string> loadBearer(const std::string &configPath, const std::string &jwksPath,
                                             std::unique_ptr<const mesos_auth_bearer, FreeBearer> *out) {
  std::string cfg, jwks;
  if (auto e = readPublicFile(configPath, &cfg)) return e;
  if (auto e = readPublicFile(jwksPath, &jwks)) return e;
  const mesos_auth_bearer *v = nullptr;
  mesos_auth_result r =
      mesos_auth_bearer_new(cfg.data(), cfg.size(), reinterpret_cast<const uint8_t *>(jwks.data()), jwks.size(), 0, &v);
  if (r != MESOS_AUTH_RESULT_OK) return lastError("loading the bearer-token configuration and JWKS", r);
  out->reset(v);
  return std::nullopt;
}

// Re-reads the JWKS file into `bearer` (the current keys serve on error).
inline std::optional<std::string> reloadBearerJwks(const mesos_auth_bearer *bearer, const std::string &jwksPath,
                                                   uint64_t *generation) {
  std::string jwks;
  if (auto e = readPublicFile(jwksPath, &jwks)) return e;
  mesos_auth_result r = mesos_auth_bearer_reload_jwks_buffer(
      bearer, reinterpret_cast<const uint8_t *>(jwks.data()), jwks.size(), generation);
  if (r != MESOS_AUTH_RESULT_OK) return lastError("reloading the JWKS", r);
  return std::nullopt;
}

#ifdef MESOS_AUTH_GSSAPI
struct FreeAcceptor {
  void operator()(mesos_auth_gssapi_acceptor *p) const noexcept { mesos_auth_gssapi_acceptor_free(p); }
};

// The GSSAPI acceptor from the `gssapi_*` parameters. A keytab that is
// missing or unreadable is an error here, so the master refuses to start
// rather than fail every Kerberos client later with no sign at start-up.
// (A keytab without the service's key still shows only per attempt:
// `kerberos_unavailable` in the audit event.)
inline std::optional<std::string> loadAcceptor(const Config &config,
                                               std::unique_ptr<mesos_auth_gssapi_acceptor, FreeAcceptor> *out) {
  const std::string &keytab = *config.gssapiKeytab;
  const std::string file = keytab.rfind("FILE:", 0) == 0 ? keytab.substr(5) : keytab;
  if (!std::ifstream(file, std::ios::binary))
    return "parameter 'gssapi_keytab': cannot read the keytab '" + file + "'";
  std::string rules;
  if (auto e = readPublicFile(*config.gssapiRulesPath, &rules)) return "parameter 'gssapi_rules': " + *e;
  mesos_auth_gssapi_acceptor *a = nullptr;
  mesos_auth_result r = mesos_auth_gssapi_acceptor_new(
      keytab.data(), keytab.size(), config.gssapiService.data(), config.gssapiService.size(), rules.data(),
      rules.size(), config.gssapiRealm.data(), config.gssapiRealm.size(), &a);
  if (r != MESOS_AUTH_RESULT_OK)
    return lastError("GSSAPI (gssapi_keytab, gssapi_rules '" + *config.gssapiRulesPath + "')", r);
  out->reset(a);
  return std::nullopt;
}
#endif

// The keys the authenticator modules share (the credentials file, the
// bearer-token validator's files, their reload, the failure throttle, the audit sinks): true if `key` is one of
// them, with `*error` set for a bad value. `C` is a module's configuration,
// which names these fields alike (Config here, HttpConfig for HTTP).
template <typename C>
inline bool parseSharedParameter(const std::string &key, const std::string &value, C *config,
                                 std::optional<std::string> *error) {
  if (key == "credentials") {
    if (value.empty()) *error = "parameter 'credentials' is empty";
    config->credentialsPath = value;
  } else if (key == "bearer_config") {
    if (value.empty()) *error = "parameter 'bearer_config' is empty";
    config->bearerConfigPath = value;
  } else if (key == "bearer_jwks") {
    if (value.empty()) *error = "parameter 'bearer_jwks' is empty";
    config->bearerJwksPath = value;
  } else if (key == "credentials_lenient") {
    if (!parseBool(value, &config->lenient)) *error = "parameter 'credentials_lenient' must be true or false";
  } else if (key == "allow_insecure_permissions") {
    if (!parseBool(value, &config->allowInsecurePermissions))
      *error = "parameter 'allow_insecure_permissions' must be true or false";
  } else if (key == "reload_interval_ms") {
    *error = parseNumber(key, value, 0, &config->reloadIntervalMs);
  } else if (key == "throttle_free_failures") {
    *error = parseNumber(key, value, 0, &config->throttleFreeFailures);
  } else if (key == "throttle_base_ms") {
    *error = parseNumber(key, value, 1, &config->throttleBaseMs);
  } else if (key == "throttle_max_ms") {
    *error = parseNumber(key, value, 1, &config->throttleMaxMs);
  } else {
    return parseAuditParameter(key, value, &config->audit, error);
  }
  return true;
}

// Reads the parameters; unknown keys, repeated keys and bad values are
// errors (a typo must not silently fall back to a default).
inline std::optional<std::string> parseParameters(const Parameters &params, Config *config) {
  std::vector<std::string> seen;
  for (const auto &kv : params) {
    const std::string &key = kv.first;
    const std::string &value = kv.second;
    for (const auto &s : seen)
      if (s == key) return "parameter '" + key + "' given twice";
    seen.push_back(key);
    if (key == "timeout_ms") {
      if (auto e = parseNumber(key, value, 1, &config->timeoutMs)) return e;
    } else if (key == "max_sessions") {
      if (auto e = parseNumber(key, value, 1, &config->maxSessions)) return e;
    } else if (key == "gssapi_keytab" || key == "gssapi_rules" || key == "gssapi_service" ||
               key == "gssapi_realm") {
      if (value.empty()) return "parameter '" + key + "' is empty";
      if (key == "gssapi_keytab") config->gssapiKeytab = value;
      else if (key == "gssapi_rules") config->gssapiRulesPath = value;
      else if (key == "gssapi_service") config->gssapiService = value;
      else config->gssapiRealm = value;
    } else if (std::optional<std::string> error; parseSharedParameter(key, value, config, &error)) {
      if (error) return error;
    } else if (std::optional<std::string> error;
               key != "zk_fail_closed_after_ms" && parseZkParameter(key, value, "zk_credentials", &config->zk, &error)) {
      if (error) return error;
    } else {
      return "unknown parameter '" + key + "'";
    }
  }
  if (!config->zk.url.empty()) {
#ifndef MESOS_AUTH_ZK
    return "parameter 'zk_credentials' needs the library built with the zk feature (ffi/mesos/build.sh does)";
#endif
    if (config->reloadIntervalMs > 0) return "parameters 'zk_credentials' and 'reload_interval_ms' exclude each other";
  }
  if (config->bearerConfigPath.has_value() != config->bearerJwksPath.has_value())
    return "parameters 'bearer_config' and 'bearer_jwks' go together";
  // An explicit keytab: a master must not fall back to the host's default
  // keytab (host/ keys) because a parameter was left out.
  if (config->gssapiKeytab.has_value() != config->gssapiRulesPath.has_value())
    return "parameters 'gssapi_keytab' and 'gssapi_rules' go together";
#ifndef MESOS_AUTH_GSSAPI
  if (config->gssapiKeytab)
    return "parameter 'gssapi_keytab' needs the library built with the gssapi feature (ffi/mesos/build.sh does)";
#endif
  if (!config->gssapiKeytab && (config->gssapiService != "mesos" || !config->gssapiRealm.empty()))
    return "parameters 'gssapi_service' and 'gssapi_realm' need 'gssapi_keytab' and 'gssapi_rules'";
  if (config->reloadIntervalMs > 0 && !config->credentialsPath && !config->bearerJwksPath)
    return "parameter 'reload_interval_ms' needs 'credentials' or 'bearer_jwks' (a file to watch)";
  if (config->throttleMaxMs < config->throttleBaseMs)
    return "parameter 'throttle_max_ms' is below 'throttle_base_ms'";
  return std::nullopt;
}

// JSON string escaping for credentials Mesos handed us already parsed.
inline void appendJsonString(std::string *out, const std::string &s) {
  static const char hex[] = "0123456789abcdef";
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 0xf]);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

// The credential store, shared by every session of the module.
class Store {
 public:
  struct Free {
    void operator()(const mesos_auth_credentials *p) const noexcept { mesos_auth_credentials_free(p); }
  };
  struct FreeThrottle {
    void operator()(const mesos_auth_throttle *p) const noexcept { mesos_auth_throttle_free(p); }
  };

  // From the `credentials` parameter's file, or else from (principal, secret)
  // pairs Mesos parsed from --credentials (none: every attempt fails).
  // `audit` (may be NULL) receives every session's event; it must outlive
  // the store.
  static std::optional<std::string> open(const Config &config,
                                         const std::vector<std::pair<std::string, std::string>> *fromMesos,
                                         std::shared_ptr<Store> *out, const mesos_auth_audit *audit = nullptr) {
    const mesos_auth_throttle *t = nullptr;
    mesos_auth_result tr = mesos_auth_throttle_new(static_cast<uint32_t>(config.throttleFreeFailures),
                                                   config.throttleBaseMs, config.throttleMaxMs, &t);
    if (tr != MESOS_AUTH_RESULT_OK) return lastError("creating the failure throttle", tr);
    std::unique_ptr<const mesos_auth_throttle, FreeThrottle> throttle(t);
    std::unique_ptr<const mesos_auth_bearer, FreeBearer> bearer;
    if (config.bearerJwksPath) {
      if (auto e = loadBearer(*config.bearerConfigPath, *config.bearerJwksPath, &bearer)) return e;
    }
    bool gssapi = false;
#ifdef MESOS_AUTH_GSSAPI
    std::unique_ptr<mesos_auth_gssapi_acceptor, FreeAcceptor> acceptor;
    if (config.gssapiKeytab) {
      if (auto e = loadAcceptor(config, &acceptor)) return e;
      gssapi = true;
    }
#endif
    uint32_t flags = config.lenient ? MESOS_AUTH_CREDENTIALS_LENIENT : 0;
    const mesos_auth_credentials *h = nullptr;
    mesos_auth_result r;
    if ((bearer || gssapi) && !config.credentialsPath && fromMesos == nullptr && config.zk.url.empty()) {
      // OAUTHBEARER and/or GSSAPI only: no credentials anywhere, so CRAM-MD5
      // is not offered (rather than offered and bound to fail).
    } else if (config.credentialsPath) {
      if (config.allowInsecurePermissions) flags |= MESOS_AUTH_CREDENTIALS_ALLOW_INSECURE_PERMISSIONS;
      const std::string &p = *config.credentialsPath;
      r = mesos_auth_credentials_load_path(p.data(), p.size(), MESOS_AUTH_CREDENTIALS_FORMAT_AUTO, flags, nullptr,
                                           &h);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("loading credentials", r);
    } else {
      std::string json = "{\"credentials\": [";
      bool first = true;
      if (fromMesos != nullptr) {
        for (const auto &c : *fromMesos) {
          if (!first) json += ", ";
          first = false;
          json += "{\"principal\": ";
          appendJsonString(&json, c.first);
          json += ", \"secret\": ";
          appendJsonString(&json, c.second);
          json += "}";
        }
      }
      json += "]}";
      r = mesos_auth_credentials_load_buffer(reinterpret_cast<const uint8_t *>(json.data()), json.size(),
                                             MESOS_AUTH_CREDENTIALS_FORMAT_JSON,
                                             flags | MESOS_AUTH_CREDENTIALS_ALLOW_EMPTY, nullptr, &h);
      // Wipe our copy of the secrets before reporting anything.
      volatile char *v = &json[0];
      for (size_t i = 0; i < json.size(); i++) v[i] = 0;
      if (r != MESOS_AUTH_RESULT_OK) return lastError("loading credentials", r);
    }
    std::shared_ptr<Store> store(new Store(h, std::move(throttle), audit));
    store->bearer_ = std::move(bearer);
#ifdef MESOS_AUTH_GSSAPI
    store->acceptor_ = std::move(acceptor);
#endif
    if (config.bearerJwksPath) store->jwksPath_ = *config.bearerJwksPath;
#ifdef MESOS_AUTH_ZK
    if (!config.zk.url.empty()) {
      const mesos_auth_zk_config c = zkConfig(config.zk);
      const mesos_auth_zk_watch *w = nullptr;
      r = mesos_auth_zk_watch_credentials(store->get(), config.zk.url.data(), config.zk.url.size(), &c, &w);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("cannot watch credentials at '" + config.zk.url + "'", r);
      store->watch_.reset(w);
    }
#endif
    *out = std::move(store);
    return std::nullopt;
  }

  // NULL when CRAM-MD5 is off (OAUTHBEARER only).
  const mesos_auth_credentials *get() const { return handle_.get(); }
  // NULL when OAUTHBEARER is off.
  const mesos_auth_bearer *bearer() const { return bearer_.get(); }
#ifdef MESOS_AUTH_GSSAPI
  // NULL when GSSAPI is off.
  const mesos_auth_gssapi_acceptor *acceptor() const { return acceptor_.get(); }
#endif

  // Re-reads the JWKS file (the current keys serve on error).
  std::optional<std::string> reloadJwks(uint64_t *generation) const {
    if (!bearer_) return std::string("no bearer tokens configured");
    return reloadBearerJwks(bearer_.get(), jwksPath_, generation);
  }
  const mesos_auth_throttle *throttle() const { return throttle_.get(); }
  const mesos_auth_audit *audit() const { return audit_; }

  // Re-reads the credentials file (same checks as the first load); sessions
  // already running keep the store they started with.
  std::optional<std::string> reload(uint64_t *generation) const {
    mesos_auth_result r = mesos_auth_credentials_reload(handle_.get(), generation);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("credentials reload refused", r);
    return std::nullopt;
  }

  // How long `peer` (an address) must wait before a new attempt: 0 to go
  // ahead.
  uint64_t throttleDelayMs(const std::string &peer) const {
    uint64_t delay = 0;
    if (mesos_auth_throttle_check(throttle_.get(), nullptr, 0, peer.data(), peer.size(), &delay) !=
        MESOS_AUTH_RESULT_OK)
      return 0;
    return delay;
  }

  size_t size() const {
    size_t n = 0;
    return mesos_auth_credentials_count(handle_.get(), &n) == MESOS_AUTH_RESULT_OK ? n : 0;
  }

 private:
  Store(const mesos_auth_credentials *h, std::unique_ptr<const mesos_auth_throttle, FreeThrottle> throttle,
        const mesos_auth_audit *audit)
      : handle_(h), throttle_(std::move(throttle)), audit_(audit) {}
  std::unique_ptr<const mesos_auth_credentials, Free> handle_;
  std::unique_ptr<const mesos_auth_throttle, FreeThrottle> throttle_;
  const mesos_auth_audit *audit_;
  std::unique_ptr<const mesos_auth_bearer, FreeBearer> bearer_;
  std::string jwksPath_;
#ifdef MESOS_AUTH_GSSAPI
  std::unique_ptr<mesos_auth_gssapi_acceptor, FreeAcceptor> acceptor_;
#endif
#ifdef MESOS_AUTH_ZK
  // Declared last, so stopped first.
  std::unique_ptr<const mesos_auth_zk_watch, FreeZkWatch> watch_;
#endif
};

// A message to send to the authenticatee.
struct Outgoing {
  uint32_t kind;  // mesos_auth_message_kind
  std::vector<std::string> mechanisms;  // MECHANISMS
  std::string data;  // STEP (challenge), ERROR (text)
};

enum class Outcome { Pending, Completed, Failed, Error };

// One authenticator session (one AuthenticateMessage). Not thread-safe: the
// module's libprocess actor serialises calls.
class Session {
 public:
  struct Free {
    void operator()(mesos_auth_authenticator *p) const noexcept { mesos_auth_authenticator_free(p); }
  };

  static std::optional<std::string> start(const std::shared_ptr<Store> &store, uint64_t timeoutMs,
                                          const std::string &peer, std::unique_ptr<Session> *out) {
    if (!store) return std::string("starting a CRAM-MD5 session: no credential store");
    mesos_auth_authenticator *s = nullptr;
    // Without bearer tokens or Kerberos, exactly the CRAM-MD5-only session
    // of before.
    mesos_auth_result r;
#ifdef MESOS_AUTH_GSSAPI
    if (store->acceptor() != nullptr)
      r = mesos_auth_authenticator_new_mechanisms_gssapi(store->get(), store->bearer(), store->acceptor(), timeoutMs,
                                                          peer.data(), peer.size(), store->audit(), &s);
    else
#endif
      r = store->bearer() == nullptr
              ? mesos_auth_authenticator_new(store->get(), timeoutMs, peer.data(), peer.size(), store->audit(), &s)
              : mesos_auth_authenticator_new_mechanisms(store->get(), store->bearer(), timeoutMs, peer.data(),
                                                        peer.size(), store->audit(), &s);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("starting a CRAM-MD5 session", r);
    out->reset(new Session(s));
    // The outcome counts in the store's throttle (failures against the peer
    // and the principal, a success clears them).
    r = mesos_auth_authenticator_set_throttle(s, store->throttle());
    if (r != MESOS_AUTH_RESULT_OK) {
      out->reset();
      return lastError("starting a CRAM-MD5 session", r);
    }
    return std::nullopt;
  }

  // Messages to send now, in order.
  std::vector<Outgoing> drain() {
    std::vector<Outgoing> v;
    mesos_auth_message m{};
    while (mesos_auth_authenticator_poll_output(handle_.get(), &m) == MESOS_AUTH_RESULT_OK &&
           m.kind != MESOS_AUTH_MESSAGE_KIND_NONE) {
      Outgoing o{m.kind, {}, std::string(reinterpret_cast<const char *>(m.data.data), m.data.len)};
      if (m.kind == MESOS_AUTH_MESSAGE_KIND_MECHANISMS) {
        std::string list(m.mechanism.data, m.mechanism.len);
        size_t from = 0;
        for (size_t at; (at = list.find(',', from)) != std::string::npos; from = at + 1)
          o.mechanisms.push_back(list.substr(from, at - from));
        o.mechanisms.push_back(list.substr(from));
      }
      v.push_back(std::move(o));
    }
    return v;
  }

  // An AuthenticationStartMessage. A mechanism that is not UTF-8 is a
  // protocol error like any other.
  void onStart(const std::string &mechanism, const std::string &data) {
    mesos_auth_message m{MESOS_AUTH_MESSAGE_KIND_START,
                         {mechanism.data(), mechanism.size()},
                         {reinterpret_cast<const uint8_t *>(data.data()), data.size()}};
    feed(m);
  }

  // An AuthenticationStepMessage.
  void onStep(const std::string &data) {
    mesos_auth_message m{MESOS_AUTH_MESSAGE_KIND_STEP,
                         {nullptr, 0},
                         {reinterpret_cast<const uint8_t *>(data.data()), data.size()}};
    feed(m);
  }

  void checkTimeout() { (void)mesos_auth_authenticator_check_timeout(handle_.get()); }
  void discard() { (void)mesos_auth_authenticator_discard(handle_.get()); }

  Outcome outcome() const {
    uint32_t st = MESOS_AUTH_STATUS_ERROR;
    if (mesos_auth_authenticator_status(handle_.get(), &st) != MESOS_AUTH_RESULT_OK) return Outcome::Error;
    switch (st) {
      case MESOS_AUTH_STATUS_PENDING: return Outcome::Pending;
      case MESOS_AUTH_STATUS_COMPLETED: return Outcome::Completed;
      case MESOS_AUTH_STATUS_FAILED: return Outcome::Failed;
      default: return Outcome::Error;
    }
  }

  // The mechanism the client chose.
  std::string mechanism() const {
    mesos_auth_str m{};
    if (mesos_auth_authenticator_mechanism(handle_.get(), &m) != MESOS_AUTH_RESULT_OK) return "";
    return std::string(m.data, m.len);
  }

  std::optional<std::string> principal() const {
    mesos_auth_str p{};
    if (mesos_auth_authenticator_principal(handle_.get(), &p) != MESOS_AUTH_RESULT_OK) return std::nullopt;
    return std::string(p.data, p.len);
  }

  // Why the session ended in Error (for the failed future), if it did.
  const std::string &error() const { return error_; }

 private:
  explicit Session(mesos_auth_authenticator *s) : handle_(s) {}

  void feed(const mesos_auth_message &m) {
    mesos_auth_result r = mesos_auth_authenticator_feed(handle_.get(), &m);
    if (r != MESOS_AUTH_RESULT_OK && error_.empty()) error_ = lastError(mechanism(), r);
    // Input the C API refused before it reached the session (bad UTF-8 in
    // the mechanism): end the session so the caller does not wait forever.
    if (r != MESOS_AUTH_RESULT_OK && outcome() == Outcome::Pending) discard();
  }

  std::unique_ptr<mesos_auth_authenticator, Free> handle_;
  std::string error_;
};

}  // namespace mesos_auth_module

#endif  // MESOS_AUTH_CRAM_MD5_ADAPTER_HPP
