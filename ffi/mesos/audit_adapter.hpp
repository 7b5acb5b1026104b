// The modules' audit sinks beyond glog: the `audit_*` module parameters and
// the handle they build (a rotating JSON-lines file and/or syslog, teed with
// the module's own glog callback). Mesos-independent C++17, exercised by
// ffi/tests/c/module_host.cpp.
#ifndef MESOS_AUTH_AUDIT_ADAPTER_HPP
#define MESOS_AUTH_AUDIT_ADAPTER_HPP

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mesos_auth.h"

namespace mesos_auth_module {

// What the `audit_*` parameters ask for. Nothing by default.
struct AuditConfig {
  // `audit_log`: a file receiving one JSON line per event (created 0600;
  // a symlink or a group/world-writable file is refused).
  std::string logPath;
  // `audit_log_max_bytes`: rotate before the file passes this (0: never;
  // default 104857600). Old files are `<audit_log>.1` (newest) ...
  uint64_t maxBytes = 104857600;
  // `audit_log_keep`: rotated files kept (default 5).
  uint64_t keep = 5;
  // `audit_fsync`: `always` (default: an event is on disk before it counts
  // as written), `never`, or a number of milliseconds (at most that long
  // after a write).
  uint32_t fsync = MESOS_AUTH_AUDIT_FSYNC_ALWAYS;
  uint64_t fsyncIntervalMs = 0;
  // `audit_syslog`: `true` also sends each event to syslog (/dev/log,
  // facility authpriv, tag mesos-auth).
  bool syslog = false;

  bool any() const { return !logPath.empty() || syslog; }
};

// A decimal in [0, 999999999999].
inline bool parseAuditNumber(const std::string &value, uint64_t *out) {
  if (value.empty() || value.size() > 12) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = n;
  return true;
}

// Reads one parameter if it is an `audit_*` key: returns false for other
// keys; for an audit key, sets `*error` if the value is bad.
inline bool parseAuditParameter(const std::string &key, const std::string &value, AuditConfig *config,
                                std::optional<std::string> *error) {
  if (key == "audit_log") {
    if (value.empty()) *error = "parameter 'audit_log' is empty";
    config->logPath = value;
  } else if (key == "audit_log_max_bytes") {
    if (!parseAuditNumber(value, &config->maxBytes))
      *error = "parameter 'audit_log_max_bytes' must be 0..999999999999";
  } else if (key == "audit_log_keep") {
    if (!parseAuditNumber(value, &config->keep) || config->keep > 1000)
      *error = "parameter 'audit_log_keep' must be 0..1000";
  } else if (key == "audit_fsync") {
    if (value == "always") {
      config->fsync = MESOS_AUTH_AUDIT_FSYNC_ALWAYS;
    } else if (value == "never") {
      config->fsync = MESOS_AUTH_AUDIT_FSYNC_NEVER;
    } else if (parseAuditNumber(value, &config->fsyncIntervalMs)) {
      config->fsync = MESOS_AUTH_AUDIT_FSYNC_INTERVAL;
    } else {
      *error = "parameter 'audit_fsync' must be always, never or a number of milliseconds";
    }
  } else if (key == "audit_syslog") {
    if (value == "true") {
      config->syslog = true;
    } else if (value == "false") {
      config->syslog = false;
    } else {
      *error = "parameter 'audit_syslog' must be true or false";
    }
  } else {
    return false;
  }
  return true;
}

// The error text of the last failed call, as lastError() in the adapters
// (kept here so this header stands alone).
inline std::string auditError(const std::string &what, mesos_auth_result r) {
  char buf[512];
  size_t n = 0;
  std::string detail;
  if (mesos_auth_last_error(buf, sizeof buf, &n) == MESOS_AUTH_RESULT_OK) detail.assign(buf, n);
  return what + ": result " + std::to_string(static_cast<uint32_t>(r)) + (detail.empty() ? "" : " (" + detail + ")");
}

// One audit handle owned by the module: `base` (the glog callback, may be
// NULL) teed with the configured file and syslog sinks.
class AuditSinks {
 public:
  struct Free {
    void operator()(const mesos_auth_audit *p) const noexcept { mesos_auth_audit_free(p); }
  };
  using Handle = std::unique_ptr<const mesos_auth_audit, Free>;

  // Builds the handle; `*out` is NULL-handled if nothing is configured and
  // `base` is NULL. The module keeps `*out` alive while sessions or the
  // policy use it.
  static std::optional<std::string> open(const AuditConfig &config, const mesos_auth_audit *base, Handle *out) {
    Handle result;
    if (base != nullptr) {
      const mesos_auth_audit *copy = nullptr;
      mesos_auth_result r = mesos_auth_audit_up_ref(base, &copy);
      if (r != MESOS_AUTH_RESULT_OK) return auditError("audit handle", r);
      result.reset(copy);
    }
    auto add = [&result](const mesos_auth_audit *sink) -> std::optional<std::string> {
      Handle owned(sink);
      if (!result) {
        result = std::move(owned);
        return std::nullopt;
      }
      const mesos_auth_audit *tee = nullptr;
      mesos_auth_result r = mesos_auth_audit_tee_new(result.get(), owned.get(), &tee);
      if (r != MESOS_AUTH_RESULT_OK) return auditError("audit tee", r);
      result.reset(tee);
      return std::nullopt;
    };
    if (!config.logPath.empty()) {
      const mesos_auth_audit *file = nullptr;
      mesos_auth_result r = mesos_auth_audit_file_new(config.logPath.data(), config.logPath.size(), config.maxBytes,
                                                      static_cast<uint32_t>(config.keep), config.fsync,
                                                      config.fsyncIntervalMs, 4096, &file);
      if (r != MESOS_AUTH_RESULT_OK) return auditError("cannot open audit_log '" + config.logPath + "'", r);
      if (auto e = add(file)) return e;
    }
    if (config.syslog) {
      const mesos_auth_audit *sys = nullptr;
      mesos_auth_result r = mesos_auth_audit_syslog_new(nullptr, 0, nullptr, 0, 10, 4096, &sys);
      if (r != MESOS_AUTH_RESULT_OK) return auditError("cannot reach syslog", r);
      if (auto e = add(sys)) return e;
    }
    *out = std::move(result);
    return std::nullopt;
  }
};

}  // namespace mesos_auth_module

#endif
