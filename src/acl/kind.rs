//! The ACL lists Mesos knows and the actions they serve (mesos-reference.md §2.2).

use std::fmt;

/// How a list's object entity is checked beyond the engine itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectRule {
    /// Any entity type.
    Free,
    /// `LocalAuthorizer::validate` forbids SOME here (AC-14).
    NoSome,
    /// SOME values must come from the `get_endpoints` path set.
    Endpoints,
}

/// Paths a `get_endpoints` SOME entity may name (`src/common/authorization.cpp`).
pub(crate) const ENDPOINT_PATHS: &[&str] = &[
    "/containers",
    "/containerizer/debug",
    "/files/debug",
    "/logging/toggle",
    "/metrics/snapshot",
    "/monitor/statistics",
];

macro_rules! lists {
    ($($variant:ident = ($action:literal, $key:literal, $field:literal, $hier:literal, $rule:ident)),* $(,)?) => {
        /// One ACL list of the Mesos `--acls` JSON, and the action it serves.
        ///
        /// Every list in mesos-reference.md §2.2 is known, including the
        /// legacy `set_quotas` / `remove_quotas` (Mesos 1.0–1.2 only).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AclList {
            $(
                #[doc = concat!("`", $key, "` (object field `", $field, "`).")]
                $variant,
            )*
            /// `set_quotas` (object field `roles`): Mesos 1.0–1.2 only.
            SetQuotas,
            /// `remove_quotas` (object field `quota_principals`): Mesos 1.0–1.2 only.
            RemoveQuotas,
        }

        /// What a request asks to do; each action is checked against one list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Action {
            $(
                #[doc = concat!("`", $action, "`, checked against `", $key, "`.")]
                $variant,
            )*
        }

        impl AclList {
            /// Every list, in declaration order.
            pub const ALL: &'static [AclList] = &[$(AclList::$variant,)* AclList::SetQuotas, AclList::RemoveQuotas];

            /// The list's JSON key.
            #[inline]
            pub const fn key(self) -> &'static str {
                match self {
                    $(AclList::$variant => $key,)*
                    AclList::SetQuotas => "set_quotas",
                    AclList::RemoveQuotas => "remove_quotas",
                }
            }

            /// The JSON name of the list's object entity.
            pub const fn object_field(self) -> &'static str {
                match self {
                    $(AclList::$variant => $field,)*
                    AclList::SetQuotas => "roles",
                    AclList::RemoveQuotas => "quota_principals",
                }
            }

            /// Whether `x/%` values name a role subtree here (mesos-reference.md §2.5).
            pub const fn hierarchical(self) -> bool {
                match self {
                    $(AclList::$variant => $hier,)*
                    AclList::SetQuotas | AclList::RemoveQuotas => false,
                }
            }

            /// Whether Mesos ignores this list since 1.3.0.
            pub const fn is_legacy(self) -> bool {
                matches!(self, AclList::SetQuotas | AclList::RemoveQuotas)
            }

            pub(crate) const fn object_rule(self) -> ObjectRule {
                match self {
                    $(AclList::$variant => ObjectRule::$rule,)*
                    AclList::SetQuotas | AclList::RemoveQuotas => ObjectRule::Free,
                }
            }

            /// The list with JSON key `key`.
            pub fn from_key(key: &str) -> Option<AclList> {
                AclList::ALL.iter().copied().find(|l| l.key() == key)
            }

            pub(crate) const fn index(self) -> usize {
                self as usize
            }
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action's name: Mesos's `authorization::Action` name in
            /// lower case (`run_task` for `RUN_TASK`), as the CLI and the
            /// conformance corpus write it. (The variant itself is named
            /// after the ACL list that decides it, `RunTasks`: one variant
            /// per list, so Mesos actions that check two lists, like
            /// `LAUNCH_NESTED_CONTAINER`, are two variants.)
            pub const fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $action,)*
                }
            }

            /// The list this action is checked against.
            pub const fn list(self) -> AclList {
                match self {
                    $(Action::$variant => AclList::$variant,)*
                }
            }

            /// The action named `name` (`run_task`), served by the list
            /// named `name` (`run_tasks`), or named as Mesos'
            /// `authorization::Action` names it (`RUN_TASK`,
            /// `GET_ENDPOINT_WITH_PATH`, `REGISTER_FRAMEWORK_WITH_ROLE`,
            /// ...: upper case, a `_WITH_*` suffix dropped), as the C API
            /// accepts them.
            pub fn from_name(name: &str) -> Option<Action> {
                let find = |n: &str| {
                    Action::ALL
                        .iter()
                        .copied()
                        .find(|a| a.name() == n || a.list().key() == n)
                };
                if let Some(a) = find(name) {
                    return Some(a);
                }
                if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    return None;
                }
                let lower = name.to_ascii_lowercase();
                let base = ["_with_role", "_with_principal", "_with_path", "_with_config"]
                    .iter()
                    .find_map(|s| lower.strip_suffix(s))
                    .unwrap_or(&lower);
                find(base)
            }
        }
    };
}

lists! {
    RegisterFrameworks = ("register_framework", "register_frameworks", "roles", true, Free),
    RunTasks = ("run_task", "run_tasks", "users", false, Free),
    ReserveResources = ("reserve_resources", "reserve_resources", "roles", true, Free),
    UnreserveResources = ("unreserve_resources", "unreserve_resources", "reserver_principals", false, Free),
    UpdateQuotas = ("update_quota", "update_quotas", "roles", true, Free),
    GetQuotas = ("get_quota", "get_quotas", "roles", true, Free),
    TeardownFrameworks = ("teardown_framework", "teardown_frameworks", "framework_principals", false, Free),
    CreateVolumes = ("create_volume", "create_volumes", "roles", true, Free),
    ResizeVolumes = ("resize_volume", "resize_volumes", "roles", true, Free),
    DestroyVolumes = ("destroy_volume", "destroy_volumes", "creator_principals", false, Free),
    UpdateWeights = ("update_weight", "update_weights", "roles", true, Free),
    ViewRoles = ("view_role", "view_roles", "roles", true, Free),
    GetEndpoints = ("get_endpoint", "get_endpoints", "paths", false, Endpoints),
    ViewFrameworks = ("view_framework", "view_frameworks", "users", false, Free),
    ViewTasks = ("view_task", "view_tasks", "users", false, Free),
    ViewExecutors = ("view_executor", "view_executors", "users", false, Free),
    AccessSandboxes = ("access_sandbox", "access_sandboxes", "users", false, Free),
    AccessMesosLogs = ("access_mesos_log", "access_mesos_logs", "logs", false, NoSome),
    ViewFlags = ("view_flags", "view_flags", "flags", false, NoSome),
    SetLogLevel = ("set_log_level", "set_log_level", "level", false, NoSome),
    RegisterAgents = ("register_agent", "register_agents", "agents", false, NoSome),
    LaunchNestedContainersAsUser = ("launch_nested_container_as_user", "launch_nested_containers_as_user", "users", false, Free),
    LaunchNestedContainersUnderParentWithUser = ("launch_nested_container_under_parent_with_user", "launch_nested_containers_under_parent_with_user", "users", false, Free),
    LaunchNestedContainerSessionsAsUser = ("launch_nested_container_session_as_user", "launch_nested_container_sessions_as_user", "users", false, Free),
    LaunchNestedContainerSessionsUnderParentWithUser = ("launch_nested_container_session_under_parent_with_user", "launch_nested_container_sessions_under_parent_with_user", "users", false, Free),
    AttachContainersInput = ("attach_container_input", "attach_containers_input", "users", false, Free),
    AttachContainersOutput = ("attach_container_output", "attach_containers_output", "users", false, Free),
    KillNestedContainers = ("kill_nested_container", "kill_nested_containers", "users", false, Free),
    WaitNestedContainers = ("wait_nested_container", "wait_nested_containers", "users", false, Free),
    RemoveNestedContainers = ("remove_nested_container", "remove_nested_containers", "users", false, Free),
    ViewContainers = ("view_container", "view_containers", "users", false, Free),
    UpdateMaintenanceSchedules = ("update_maintenance_schedule", "update_maintenance_schedules", "machines", false, NoSome),
    GetMaintenanceSchedules = ("get_maintenance_schedule", "get_maintenance_schedules", "machines", false, NoSome),
    StartMaintenances = ("start_maintenance", "start_maintenances", "machines", false, NoSome),
    StopMaintenances = ("stop_maintenance", "stop_maintenances", "machines", false, NoSome),
    GetMaintenanceStatuses = ("get_maintenance_status", "get_maintenance_statuses", "machines", false, NoSome),
    DrainAgents = ("drain_agent", "drain_agents", "agents", false, NoSome),
    DeactivateAgents = ("deactivate_agent", "deactivate_agents", "agents", false, NoSome),
    ReactivateAgents = ("reactivate_agent", "reactivate_agents", "agents", false, NoSome),
    // Not in `LocalAuthorizer::validate`'s list: Mesos 1.11 accepts SOME agents here.
    MarkAgentsGone = ("mark_agent_gone", "mark_agents_gone", "agents", false, Free),
    LaunchStandaloneContainers = ("launch_standalone_container", "launch_standalone_containers", "users", false, NoSome),
    KillStandaloneContainers = ("kill_standalone_container", "kill_standalone_containers", "users", false, NoSome),
    WaitStandaloneContainers = ("wait_standalone_container", "wait_standalone_containers", "users", false, NoSome),
    RemoveStandaloneContainers = ("remove_standalone_container", "remove_standalone_containers", "users", false, NoSome),
    ViewStandaloneContainers = ("view_standalone_container", "view_standalone_containers", "users", false, NoSome),
    ModifyResourceProviderConfigs = ("modify_resource_provider_config", "modify_resource_provider_configs", "resource_providers", false, NoSome),
    MarkResourceProvidersGone = ("mark_resource_provider_gone", "mark_resource_providers_gone", "resource_providers", false, NoSome),
    ViewResourceProviders = ("view_resource_provider", "view_resource_providers", "resource_providers", false, NoSome),
    PruneImages = ("prune_images", "prune_images", "images", false, NoSome),
    CreateBlockDisks = ("create_block_disk", "create_block_disks", "roles", true, Free),
    DestroyBlockDisks = ("destroy_block_disk", "destroy_block_disks", "roles", true, Free),
    CreateMountDisks = ("create_mount_disk", "create_mount_disks", "roles", true, Free),
    DestroyMountDisks = ("destroy_mount_disk", "destroy_mount_disks", "roles", true, Free),
    DestroyRawDisks = ("destroy_raw_disk", "destroy_raw_disks", "roles", true, Free),
}

/// Number of lists (for per-list tables).
pub(crate) const LIST_COUNT: usize = AclList::ALL.len();

impl Action {
    /// Whether the object is always implicit (ANY): `register_agent`.
    pub const fn implicit_object(self) -> bool {
        matches!(self, Action::RegisterAgents)
    }

    /// Whether the request object may be a list of roles (every role must
    /// pass): `register_framework` (MULTI_ROLE) and `reserve_resources`.
    pub const fn takes_role_list(self) -> bool {
        matches!(self, Action::RegisterFrameworks | Action::ReserveResources)
    }
}

impl fmt::Display for AclList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for AclList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.key())
    }
}

impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
