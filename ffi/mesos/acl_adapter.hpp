// The Mesos-independent half of the Authorizer module: parameters, the
// reloadable policy, and the translation of a Mesos authorization object
// into the checks the local authorizer (Mesos 1.11,
// src/authorizer/local/authorizer.cpp) makes, as C++17 over the mesos-auth
// C API. authorizer.cpp only copies protobuf fields into `ObjectFields` and
// wraps the answers in futures, so everything here is exercised without
// Mesos by ffi/tests/c/module_host.cpp.
//
// No exceptions: results are returned as values, as Mesos's Try would carry
// them.
#ifndef MESOS_AUTH_ACL_ADAPTER_HPP
#define MESOS_AUTH_ACL_ADAPTER_HPP

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit_adapter.hpp"
#include "cram_md5_adapter.hpp"  // lastError, Parameters, parseBool
#include "file_watcher.hpp"
#include "mesos_auth.h"

namespace mesos_auth_module {

// What the Authorizer module reads from its parameters.
struct AclConfig {
  // `acls`: the ACL file (Mesos --acls JSON), read by mesos-auth. Required
  // unless `zk_acls` is given (then it is the start-up fallback, if any).
  std::string aclsPath;
  // `acls_lenient`: "true" accepts what Mesos accepts (unknown keys are
  // then warnings, not errors).
  bool lenient = false;
  // `reload_interval_ms`: how often to check the file for a change and
  // reload it (0: never, the default).
  uint64_t reloadIntervalMs = 0;
  // `audit_log`, `audit_log_max_bytes`, `audit_log_keep`, `audit_fsync`,
  // `audit_syslog`: where one event per decision goes (audit_adapter.hpp).
  AuditConfig audit;
  // `zk_*`: the policy from ZooKeeper (watched; each valid version swapped
  // in, an invalid one refused with the last good one serving).
  ZkSource zk;
};

// Reads the parameters; unknown keys, repeated keys and bad values are errors.
inline std::optional<std::string> parseAclParameters(const Parameters &params, AclConfig *config) {
  std::vector<std::string> seen;
  for (const auto &kv : params) {
    const std::string &key = kv.first;
    const std::string &value = kv.second;
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return "parameter '" + key + "' given twice";
    seen.push_back(key);
    if (key == "acls") {
      if (value.empty()) return "parameter 'acls' is empty";
      config->aclsPath = value;
    } else if (key == "acls_lenient") {
      if (!parseBool(value, &config->lenient)) return "parameter 'acls_lenient' must be true or false";
    } else if (key == "reload_interval_ms") {
      uint64_t n = 0;
      if (value.empty() || value.size() > 9) return "parameter 'reload_interval_ms' must be 0..999999999";
      for (char c : value) {
        if (c < '0' || c > '9') return "parameter 'reload_interval_ms' must be 0..999999999";
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      config->reloadIntervalMs = n;
    } else if (std::optional<std::string> error; parseAuditParameter(key, value, &config->audit, &error)) {
      if (error) return error;
    } else if (std::optional<std::string> error; parseZkParameter(key, value, "zk_acls", &config->zk, &error)) {
      if (error) return error;
    } else {
      return "unknown parameter '" + key + "'";
    }
  }
  if (!config->zk.url.empty()) {
#ifndef MESOS_AUTH_ZK
    return "parameter 'zk_acls' needs the library built with the zk feature (ffi/mesos/build.sh does)";
#endif
    if (config->reloadIntervalMs > 0) return "parameters 'zk_acls' and 'reload_interval_ms' exclude each other";
    if (config->aclsPath.empty() && config->zk.startupTimeoutMs == 0)
      return "parameter 'zk_startup_timeout_ms' 0 (start without ZooKeeper) needs 'acls' as the fallback";
    return std::nullopt;
  }
  if (config->aclsPath.empty()) return "parameter 'acls' is required";
  return std::nullopt;
}

// One question for the policy: an action number and its object.
struct Check {
  uint32_t action = 0;
  uint32_t kind = MESOS_AUTH_ACL_OBJECT_KIND_NONE;  // NONE, ONE or MANY
  std::string value;                                 // ONE
  std::vector<std::string> values;                   // MANY
};

// A policy being served, shared by the authorizer and every approver it
// hands out (so approvers follow reloads: they stay current, as Mesos asks).
class Policy {
 public:
  struct Free {
    void operator()(const mesos_auth_acl *p) const noexcept { mesos_auth_acl_free(p); }
  };

  // With `audit_*` parameters, every decision is recorded there (the
  // policy handle keeps its own reference to the sink).
  static std::optional<std::string> open(const AclConfig &config, std::shared_ptr<Policy> *out) {
    AuditSinks::Handle audit;
    if (auto e = AuditSinks::open(config.audit, nullptr, &audit)) return e;
    const mesos_auth_acl *raw = nullptr;
    const uint32_t flags = config.lenient ? MESOS_AUTH_ACL_LENIENT : 0;
    mesos_auth_result r;
    if (!config.aclsPath.empty()) {
      r = mesos_auth_acl_load_path(config.aclsPath.data(), config.aclsPath.size(), flags, audit.get(), &raw);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("cannot load ACLs '" + config.aclsPath + "'", r);
    } else {
      // Only ZooKeeper: nothing is allowed until its first valid policy
      // (start-up waits for it).
      static const char denyAll[] = "{\"permissive\": false}";
      r = mesos_auth_acl_compile_buffer(denyAll, sizeof denyAll - 1, flags, audit.get(), &raw);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("cannot compile the deny-all policy", r);
    }
    std::shared_ptr<Policy> policy(new Policy(raw));
#ifdef MESOS_AUTH_ZK
    if (!config.zk.url.empty()) {
      const ZkSource &zk = config.zk;
      const mesos_auth_zk_config c = zkConfig(zk);
      const mesos_auth_zk_watch *w = nullptr;
      r = mesos_auth_zk_watch_acl(policy->raw(), zk.url.data(), zk.url.size(), &c, &w);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("cannot watch ACLs at '" + zk.url + "'", r);
      policy->watch_.reset(w);
    }
#endif
    *out = std::move(policy);
    return std::nullopt;
  }

  static std::optional<std::string> fromText(const std::string &text, bool lenient, std::shared_ptr<Policy> *out) {
    const mesos_auth_acl *raw = nullptr;
    mesos_auth_result r =
        mesos_auth_acl_compile_buffer(text.data(), text.size(), lenient ? MESOS_AUTH_ACL_LENIENT : 0, nullptr, &raw);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("cannot compile ACLs", r);
    out->reset(new Policy(raw));
    return std::nullopt;
  }

  // Re-reads the file; an invalid policy is refused and the old one serves.
  std::optional<std::string> reload(uint64_t *generation) const {
    mesos_auth_result r = mesos_auth_acl_reload(acl_.get(), generation);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("ACL reload refused", r);
    return std::nullopt;
  }

  std::optional<std::string> reloadText(const std::string &text, uint64_t *generation) const {
    mesos_auth_result r = mesos_auth_acl_reload_buffer(acl_.get(), text.data(), text.size(), generation);
    if (r != MESOS_AUTH_RESULT_OK) return lastError("ACL reload refused", r);
    return std::nullopt;
  }

  // Decides every check (all must allow). On an error nothing is decided:
  // the caller fails the request (Mesos then denies or retries).
  std::optional<std::string> allowed(const std::optional<std::string> &principal, const std::vector<Check> &checks,
                                     bool *out) const {
#ifdef MESOS_AUTH_ZK
    // Past the fail-closed bound without ZooKeeper: deny everything.
    if (watch_ && mesos_auth_zk_watch_check_fresh(watch_.get()) != MESOS_AUTH_RESULT_OK) {
      *out = false;
      return std::nullopt;
    }
#endif
    for (const Check &c : checks) {
      mesos_auth_acl_request req{};
      req.action = c.action;
      req.principal = principal ? mesos_auth_str{principal->data(), principal->size()} : mesos_auth_str{nullptr, 0};
      req.object.kind = c.kind;
      req.object.value = mesos_auth_str{c.value.data(), c.value.size()};
      std::vector<mesos_auth_str> views;
      for (const auto &v : c.values) views.push_back(mesos_auth_str{v.data(), v.size()});
      req.object.values = views.data();
      req.object.values_len = views.size();
      mesos_auth_acl_decision d{};
      mesos_auth_result r = mesos_auth_acl_authorize(acl_.get(), &req, &d);
      if (r != MESOS_AUTH_RESULT_OK) return lastError("ACL decision failed", r);
      if (!d.allowed) {
        *out = false;
        return std::nullopt;
      }
    }
    *out = true;
    return std::nullopt;
  }

  const mesos_auth_acl *raw() const { return acl_.get(); }

 private:
  explicit Policy(const mesos_auth_acl *raw) : acl_(raw) {}
  std::unique_ptr<const mesos_auth_acl, Free> acl_;
#ifdef MESOS_AUTH_ZK
  // Declared after acl_, so destroyed first: the watch stops before the
  // policy it feeds goes (it holds its own reference anyway).
  std::unique_ptr<const mesos_auth_zk_watch, FreeZkWatch> watch_;
#endif
};

// The fields of a Mesos `authorization::Object` / `ObjectApprover::Object`
// the local authorizer reads, copied out of the protobufs by authorizer.cpp.
// `std::nullopt` / false: the field (or message) is not set.
struct ObjectFields {
  std::optional<std::string> value;
  bool framework = false;                      // framework_info set
  std::string frameworkPrincipal;              // framework_info.principal
  std::optional<std::string> frameworkUser;    // framework_info.user, if has_user
  std::vector<std::string> frameworkRoles;     // getRoles(framework_info)
  bool task = false;                           // task set
  std::optional<std::string> taskUser;         // task.user, if has_user
  bool taskInfo = false;                       // task_info set
  std::optional<std::string> taskInfoCommandUser;   // task_info.command.user
  std::optional<std::string> taskInfoExecutorUser;  // task_info.executor.command.user
  bool executor = false;                       // executor_info set
  std::optional<std::string> executorUser;     // executor_info.command.user
  bool command = false;                        // command_info set
  std::optional<std::string> commandUser;      // command_info.user
  bool resource = false;                       // resource set
  std::string resourceRole;                    // most refined reservation's role (or .role)
  std::string resourcePrincipal;               // most refined reservation's principal
  std::string persistencePrincipal;            // disk.persistence.principal
  std::optional<std::string> quotaRole;        // quota_info.role
  std::optional<std::string> weightRole;       // weight_info.role
  std::optional<std::string> containerId;      // container_id.value
};

namespace detail {
inline Check any(uint32_t action) {
  Check c;
  c.action = action;
  return c;
}
inline Check one(uint32_t action, const std::string &v) {
  Check c;
  c.action = action;
  c.kind = MESOS_AUTH_ACL_OBJECT_KIND_ONE;
  c.value = v;
  return c;
}
inline uint32_t named(const std::string &name, std::optional<std::string> *error) {
  uint32_t a = 0;
  if (mesos_auth_acl_action_from_name(name.data(), name.size(), &a) != MESOS_AUTH_RESULT_OK)
    *error = "action " + name + " is not supported by this authorizer";
  return a;
}
// The user a nested or attached container runs under, as Mesos picks it.
inline std::optional<std::string> containerUser(const ObjectFields &o) {
  if (o.executor && o.executorUser) return o.executorUser;
  if (o.framework && o.frameworkUser) return o.frameworkUser;
  return std::nullopt;
}
}  // namespace detail

// A Mesos `authorization::Action` name, looked up once: an approver decides
// one action for many objects, so the name's lookup is per approver, not
// per object.
struct ResolvedAction {
  explicit ResolvedAction(std::string name) : name(std::move(name)) {
    unknown = this->name == "UNKNOWN";
    nested = this->name == "LAUNCH_NESTED_CONTAINER" || this->name == "LAUNCH_NESTED_CONTAINER_SESSION";
    session = this->name == "LAUNCH_NESTED_CONTAINER_SESSION";
    if (!unknown && !nested) code = detail::named(this->name, &error);
  }
  std::string name;
  bool unknown = false;
  bool nested = false;
  bool session = false;
  uint32_t code = 0;
  std::optional<std::string> error;  // the name is not supported
};

// The checks that decide `resolved` (a Mesos `authorization::Action` name,
// e.g. "RUN_TASK") on `object`, all of which must allow. "UNKNOWN" yields
// no checks and *deny = true (Mesos: not authorized). An error means the
// request is malformed as Mesos sees it (its local authorizer would
// CHECK-fail) or the action is unsupported: fail the request.
inline std::optional<std::string> checksFor(const ResolvedAction &resolved,
                                            const std::optional<ObjectFields> &object, std::vector<Check> *out,
                                            bool *deny) {
  using namespace detail;
  const std::string &mesosAction = resolved.name;
  out->clear();
  *deny = false;
  if (resolved.unknown) {
    *deny = true;
    return std::nullopt;
  }
  // Nested container launches are two checks: the parent's user under
  // `..._under_parent_with_user`, the command's user under `..._as_user`.
  if (resolved.nested) {
    const bool session = resolved.session;
    const uint32_t parent = session ? MESOS_AUTH_ACL_ACTION_LAUNCH_NESTED_CONTAINER_SESSION_UNDER_PARENT_WITH_USER
                                    : MESOS_AUTH_ACL_ACTION_LAUNCH_NESTED_CONTAINER_UNDER_PARENT_WITH_USER;
    const uint32_t child = session ? MESOS_AUTH_ACL_ACTION_LAUNCH_NESTED_CONTAINER_SESSION_AS_USER
                                   : MESOS_AUTH_ACL_ACTION_LAUNCH_NESTED_CONTAINER_AS_USER;
    if (!object) {
      out->push_back(any(parent));
      return std::nullopt;
    }
    auto user = containerUser(*object);
    out->push_back(user ? one(parent, *user) : any(parent));
    if (object->command) out->push_back(object->commandUser ? one(child, *object->commandUser) : any(child));
    return std::nullopt;
  }
  if (resolved.error) return resolved.error;
  const uint32_t action = resolved.code;
  if (!object) {
    out->push_back(any(action));
    return std::nullopt;
  }
  const ObjectFields &o = *object;
  auto valueOrAny = [&](const std::optional<std::string> &v) { out->push_back(v ? one(action, *v) : any(action)); };
  auto required = [&](const std::optional<std::string> &v, const char *what) -> std::optional<std::string> {
    if (!v) return mesosAction + " needs " + what;
    out->push_back(one(action, *v));
    return std::nullopt;
  };
  switch (action) {
    case MESOS_AUTH_ACL_ACTION_GET_ENDPOINT:
    case MESOS_AUTH_ACL_ACTION_VIEW_ROLE:
      return required(o.value, "object.value");
    case MESOS_AUTH_ACL_ACTION_UPDATE_QUOTA:
      if (mesosAction == "UPDATE_QUOTA") return required(o.quotaRole, "object.quota_info");
      return required(o.value, "object.value");
    case MESOS_AUTH_ACL_ACTION_TEARDOWN_FRAMEWORK:
      if (o.framework) out->push_back(one(action, o.frameworkPrincipal));
      else valueOrAny(o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_DESTROY_VOLUME:
      if (o.resource) out->push_back(one(action, o.persistencePrincipal));
      else valueOrAny(o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_UNRESERVE_RESOURCES:
      if (o.resource) out->push_back(one(action, o.resourcePrincipal));
      else valueOrAny(o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_RUN_TASK:
      if (o.taskInfo && o.taskInfoCommandUser) out->push_back(one(action, *o.taskInfoCommandUser));
      else if (o.taskInfo && o.taskInfoExecutorUser) out->push_back(one(action, *o.taskInfoExecutorUser));
      else if (o.framework) out->push_back(one(action, o.frameworkUser.value_or("")));
      else out->push_back(any(action));
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_ATTACH_CONTAINER_INPUT:
    case MESOS_AUTH_ACL_ACTION_ATTACH_CONTAINER_OUTPUT:
    case MESOS_AUTH_ACL_ACTION_REMOVE_NESTED_CONTAINER:
    case MESOS_AUTH_ACL_ACTION_KILL_NESTED_CONTAINER:
    case MESOS_AUTH_ACL_ACTION_WAIT_NESTED_CONTAINER: {
      auto user = containerUser(o);
      if (user) out->push_back(one(action, *user));
      else valueOrAny(o.containerId);
      return std::nullopt;
    }
    case MESOS_AUTH_ACL_ACTION_ACCESS_SANDBOX:
      if (o.executor && o.executorUser) out->push_back(one(action, *o.executorUser));
      else if (o.framework) out->push_back(one(action, o.frameworkUser.value_or("")));
      else out->push_back(any(action));
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_VIEW_CONTAINER:
      valueOrAny(containerUser(o));
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_VIEW_FRAMEWORK:
      if (!o.framework) return mesosAction + " needs object.framework_info";
      out->push_back(one(action, o.frameworkUser.value_or("")));
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_VIEW_TASK: {
      if (!(o.task || o.taskInfo) || !o.framework) return mesosAction + " needs a task and object.framework_info";
      std::optional<std::string> user;
      if (o.task && o.taskUser) user = o.taskUser;
      else if (o.taskInfo && o.taskInfoCommandUser) user = o.taskInfoCommandUser;
      else if (o.taskInfo && o.taskInfoExecutorUser) user = o.taskInfoExecutorUser;
      out->push_back(one(action, user ? *user : o.frameworkUser.value_or("")));
      return std::nullopt;
    }
    case MESOS_AUTH_ACL_ACTION_VIEW_EXECUTOR:
      if (!o.executor || !o.framework) return mesosAction + " needs object.executor_info and object.framework_info";
      out->push_back(one(action, o.executorUser ? *o.executorUser : o.frameworkUser.value_or("")));
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_CREATE_VOLUME:
    case MESOS_AUTH_ACL_ACTION_RESIZE_VOLUME:
    case MESOS_AUTH_ACL_ACTION_RESERVE_RESOURCES:
    case MESOS_AUTH_ACL_ACTION_CREATE_BLOCK_DISK:
    case MESOS_AUTH_ACL_ACTION_DESTROY_BLOCK_DISK:
    case MESOS_AUTH_ACL_ACTION_CREATE_MOUNT_DISK:
    case MESOS_AUTH_ACL_ACTION_DESTROY_MOUNT_DISK:
    case MESOS_AUTH_ACL_ACTION_DESTROY_RAW_DISK:
      if (o.resource) out->push_back(one(action, o.resourceRole));
      else valueOrAny(o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_UPDATE_WEIGHT:
      valueOrAny(o.weightRole ? o.weightRole : o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_GET_QUOTA:
      valueOrAny(o.value);
      return std::nullopt;
    case MESOS_AUTH_ACL_ACTION_REGISTER_FRAMEWORK:
      if (o.framework) {
        // Each distinct role on its own; none at all: `permissive` (the
        // core's MANY with no roles).
        Check c;
        c.action = action;
        c.kind = MESOS_AUTH_ACL_OBJECT_KIND_MANY;
        c.values = o.frameworkRoles;
        std::sort(c.values.begin(), c.values.end());
        c.values.erase(std::unique(c.values.begin(), c.values.end()), c.values.end());
        out->push_back(c);
      } else {
        valueOrAny(o.value);
      }
      return std::nullopt;
    default:
      // ACCESS_MESOS_LOG, VIEW_FLAGS, SET_LOG_LEVEL, REGISTER_AGENT, the
      // maintenance, agent, standalone container and resource provider
      // actions, PRUNE_IMAGES: the object is always ANY in Mesos.
      out->push_back(any(action));
      return std::nullopt;
  }
}

// checksFor, from the action's name.
inline std::optional<std::string> checksFor(const std::string &mesosAction,
                                            const std::optional<ObjectFields> &object, std::vector<Check> *out,
                                            bool *deny) {
  return checksFor(ResolvedAction(mesosAction), object, out, deny);
}

// What a Mesos ObjectApprover does: one subject, one action, any number of
// objects, decided against the policy being served at each call.
//
// Mesos 1.11 asks `ObjectApprover::approved(const Option<Object>&)` one
// object at a time (filtering /state, say), so the batch path
// (mesos_auth_acl_authorize_many) cannot serve it; what depends only on
// the subject and the action (the action's lookup) is done once, here.
class Approver {
 public:
  Approver(std::shared_ptr<const Policy> policy, std::optional<std::string> principal, std::string action)
      : policy_(std::move(policy)), principal_(std::move(principal)), action_(std::move(action)) {}

  // `error` set: Mesos's Try error (transient or malformed); else `*out`.
  std::optional<std::string> approved(const std::optional<ObjectFields> &object, bool *out) const noexcept {
    std::vector<Check> checks;
    bool deny = false;
    if (auto e = checksFor(action_, object, &checks, &deny)) return e;
    if (deny) {
      *out = false;
      return std::nullopt;
    }
    return policy_->allowed(principal_, checks, out);
  }

 private:
  std::shared_ptr<const Policy> policy_;
  std::optional<std::string> principal_;
  ResolvedAction action_;
};

}  // namespace mesos_auth_module

#endif
