// Mesos Authorizer module: the master's (or agent's) ACLs decided by
// mesos-auth's compiled policy instead of Mesos's local authorizer.
//
// Selected with --authorizers=org_mesosauth_AclAuthorizer (master) or
// --authorizer=... (agent); --acls is then ignored and the policy comes from
// the module's `acls` parameter. authorized() answers one request;
// getApprover() hands out a long-lived ObjectApprover whose approved() is a
// synchronous, non-blocking call into the compiled policy (mesos-reference.md
// §5.4). Approvers share the authorizer's policy handle, so a reload reaches
// them at once. With `reload_interval_ms`, a watcher thread reloads the ACL
// file when it changes (an invalid file is refused and logged; the old
// policy keeps serving).
//
// All decision logic is in acl_adapter.hpp (tested without Mesos by
// ffi/tests/c/module_host.cpp); this file only copies protobuf fields into
// ObjectFields and wraps answers in futures. Build: see README.md here.

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <glog/logging.h>

#include <mesos/authorizer/authorizer.hpp>
#include <mesos/mesos.hpp>
#include <mesos/module.hpp>
#include <mesos/module/authorizer.hpp>

#include <process/future.hpp>

#include <stout/error.hpp>
#include <stout/option.hpp>
#include <stout/try.hpp>

#include "acl_adapter.hpp"
#include "module_log.hpp"

// Mesos 1.11 still fills the deprecated fields (FrameworkInfo.role,
// Resource.role, Object.quota_info) and its local authorizer reads them, so
// this adapter must too.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace mesos_auth_module {
namespace {

// The roles a framework asks for (Mesos's protobuf::framework::getRoles):
// MULTI_ROLE frameworks list them in `roles`, others have one `role`.
std::vector<std::string> frameworkRoles(const mesos::FrameworkInfo& f)
{
  for (const auto& c : f.capabilities()) {
    if (c.type() == mesos::FrameworkInfo::Capability::MULTI_ROLE) {
      return std::vector<std::string>(f.roles().begin(), f.roles().end());
    }
  }
  return {f.role()};
}

ObjectFields fieldsOf(const mesos::ObjectApprover::Object& o)
{
  ObjectFields f;
  if (o.value != nullptr) {
    f.value = *o.value;
  }
  if (o.framework_info != nullptr) {
    f.framework = true;
    f.frameworkPrincipal = o.framework_info->principal();
    if (o.framework_info->has_user()) {
      f.frameworkUser = o.framework_info->user();
    }
    f.frameworkRoles = frameworkRoles(*o.framework_info);
  }
  if (o.task != nullptr) {
    f.task = true;
    if (o.task->has_user()) {
      f.taskUser = o.task->user();
    }
  }
  if (o.task_info != nullptr) {
    f.taskInfo = true;
    if (o.task_info->has_command() && o.task_info->command().has_user()) {
      f.taskInfoCommandUser = o.task_info->command().user();
    }
    if (o.task_info->has_executor() &&
        o.task_info->executor().command().has_user()) {
      f.taskInfoExecutorUser = o.task_info->executor().command().user();
    }
  }
  if (o.executor_info != nullptr) {
    f.executor = true;
    if (o.executor_info->command().has_user()) {
      f.executorUser = o.executor_info->command().user();
    }
  }
  if (o.command_info != nullptr) {
    f.command = true;
    if (o.command_info->has_user()) {
      f.commandUser = o.command_info->user();
    }
  }
  if (o.resource != nullptr) {
    f.resource = true;
    if (o.resource->reservations_size() > 0) {
      // "Post-reservation-refinement" format: the most refined reservation.
      const mesos::Resource::ReservationInfo& r =
        *o.resource->reservations().rbegin();
      f.resourceRole = r.role();
      f.resourcePrincipal = r.principal();
    } else {
      f.resourceRole = o.resource->role();
      f.resourcePrincipal = o.resource->reservation().principal();
    }
    f.persistencePrincipal = o.resource->disk().persistence().principal();
  }
  if (o.quota_info != nullptr) {
    f.quotaRole = o.quota_info->role();
  }
  if (o.weight_info != nullptr) {
    f.weightRole = o.weight_info->role();
  }
  if (o.container_id != nullptr) {
    f.containerId = o.container_id->value();
  }
  return f;
}

// The pointers view of an authorization::Object, as approvers receive it.
mesos::ObjectApprover::Object approverObject(
    const mesos::authorization::Object& o)
{
  mesos::ObjectApprover::Object r;
  if (o.has_value()) r.value = &o.value();
  if (o.has_framework_info()) r.framework_info = &o.framework_info();
  if (o.has_task()) r.task = &o.task();
  if (o.has_task_info()) r.task_info = &o.task_info();
  if (o.has_executor_info()) r.executor_info = &o.executor_info();
  if (o.has_quota_info()) r.quota_info = &o.quota_info();
  if (o.has_weight_info()) r.weight_info = &o.weight_info();
  if (o.has_resource()) r.resource = &o.resource();
  if (o.has_command_info()) r.command_info = &o.command_info();
  if (o.has_container_id()) r.container_id = &o.container_id();
  if (o.has_machine_id()) r.machine_id = &o.machine_id();
  return r;
}

// No subject: an unauthenticated caller (ANY). A subject with claims but no
// value (an executor's token) is not something ACLs can name: denied.
bool principalOf(
    const Option<mesos::authorization::Subject>& subject,
    std::optional<std::string>* out)
{
  if (subject.isNone()) {
    *out = std::nullopt;
    return true;
  }
  if (!subject->has_value()) {
    return false;
  }
  *out = subject->value();
  return true;
}


class PolicyApprover : public mesos::ObjectApprover
{
public:
  explicit PolicyApprover(Approver approver) : approver_(std::move(approver)) {}

  Try<bool> approved(
      const Option<mesos::ObjectApprover::Object>& object) const
      noexcept override
  {
    std::optional<ObjectFields> fields;
    if (object.isSome()) {
      fields = fieldsOf(object.get());
    }
    bool allowed = false;
    if (std::optional<std::string> error = approver_.approved(fields, &allowed)) {
      return Error(*error);
    }
    return allowed;
  }

private:
  const Approver approver_;
};


class DenyingApprover : public mesos::ObjectApprover
{
public:
  Try<bool> approved(
      const Option<mesos::ObjectApprover::Object>&) const noexcept override
  {
    return false;
  }
};

} // namespace

#pragma GCC diagnostic pop


class AclAuthorizer : public mesos::Authorizer
{
public:
  AclAuthorizer(std::shared_ptr<Policy> policy, const AclConfig& config)
    : policy_(std::move(policy))
  {
    if (config.reloadIntervalMs > 0) {
      std::shared_ptr<const Policy> policy = policy_;
      watcher_.reset(new FileWatcher(
          "ACLs",
          config.aclsPath,
          config.reloadIntervalMs,
          [policy](uint64_t* generation) { return policy->reload(generation); },
          logReloads("org_mesosauth_AclAuthorizer")));
    }
  }

  process::Future<bool> authorized(
      const mesos::authorization::Request& request) override
  {
    std::optional<std::string> principal;
    Option<mesos::authorization::Subject> subject;
    if (request.has_subject()) {
      subject = request.subject();
    }
    if (!principalOf(subject, &principal)) {
      return false;
    }
    Approver approver(
        policy_,
        principal,
        mesos::authorization::Action_Name(request.action()));
    std::optional<ObjectFields> fields;
    if (request.has_object()) {
      fields = fieldsOf(approverObject(request.object()));
    }
    bool allowed = false;
    if (std::optional<std::string> error = approver.approved(fields, &allowed)) {
      return process::Failure(*error);
    }
    return allowed;
  }

  process::Future<std::shared_ptr<const mesos::ObjectApprover>> getApprover(
      const Option<mesos::authorization::Subject>& subject,
      const mesos::authorization::Action& action) override
  {
    std::optional<std::string> principal;
    if (!principalOf(subject, &principal)) {
      return std::shared_ptr<const mesos::ObjectApprover>(
          std::make_shared<DenyingApprover>());
    }
    return std::shared_ptr<const mesos::ObjectApprover>(
        std::make_shared<PolicyApprover>(Approver(
            policy_, principal, mesos::authorization::Action_Name(action))));
  }

private:
  const std::shared_ptr<Policy> policy_;
  std::unique_ptr<FileWatcher> watcher_;
};

} // namespace mesos_auth_module {


static mesos::Authorizer* createAuthorizer(const mesos::Parameters& parameters)
{
  mesos_auth_module::Parameters params;
  for (const mesos::Parameter& p : parameters.parameter()) {
    params.emplace_back(p.key(), p.value());
  }
  mesos_auth_module::AclConfig config;
  std::shared_ptr<mesos_auth_module::Policy> policy;
  std::optional<std::string> error =
    mesos_auth_module::parseAclParameters(params, &config);
  if (!error) {
    error = mesos_auth_module::Policy::open(config, &policy);
  }
  if (error) {
    // Mesos then reports "Error creating Module instance".
    std::cerr << "org_mesosauth_AclAuthorizer: " << *error << std::endl;
    return nullptr;
  }
  return new mesos_auth_module::AclAuthorizer(std::move(policy), config);
}


// The module's name is this variable's name. No compatible() function: Mesos
// then loads it only into the exact version it was built against.
mesos::modules::Module<mesos::Authorizer> org_mesosauth_AclAuthorizer(
    MESOS_MODULE_API_VERSION,
    MESOS_VERSION,
    "mesos-auth",
    "mesos-auth@example.org",
    "Mesos ACLs compiled and decided by the mesos-auth library.",
    nullptr,
    createAuthorizer);
