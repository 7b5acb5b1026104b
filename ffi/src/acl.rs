//! The ACL policy: compile from a buffer or a file, reload, authorize one
//! request or many objects for one subject, explain a decision.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mesos_auth::Reloadable;
use mesos_auth::acl::{
    self, AclError, AclSource, Action, CompiledAcls, Compiler, Decision, DecisionEvent,
    LegacyQuotaOp, Object, Options, Reason, Request,
};

use crate::audit::{self, SharedSink, mesos_auth_audit};
use crate::handle::{self, Castable, Kind, Ownership};
use crate::mesos_auth_str;
use crate::panic::ffi_panic_boundary;
use crate::result::{fail, mesos_auth_result, write_item};

/// Lenient mode: accept what Mesos (>= 1.5) accepts, unknown keys and
/// coercions included, each reported as a warning (`mesos_auth_acl_warning`).
/// Without it, parsing is strict: unknown keys, unknown entity types,
/// duplicate keys and an unset `permissive` are errors.
pub const MESOS_AUTH_ACL_LENIENT: u32 = 1;
const ALL_FLAGS: u32 = MESOS_AUTH_ACL_LENIENT;

/// What a request asks to do (passed as `uint32_t`). Numbers are fixed
/// forever and never reused. `mesos_auth_acl_action_from_name` maps the
/// names Mesos uses (`RUN_TASK`, `run_tasks`, ...) to these.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_acl_action {
    /// `register_framework`.
    RegisterFramework = 0,
    /// `run_task`.
    RunTask = 1,
    /// `reserve_resources`.
    ReserveResources = 2,
    /// `unreserve_resources`.
    UnreserveResources = 3,
    /// `update_quota`.
    UpdateQuota = 4,
    /// `get_quota`.
    GetQuota = 5,
    /// `teardown_framework`.
    TeardownFramework = 6,
    /// `create_volume`.
    CreateVolume = 7,
    /// `resize_volume`.
    ResizeVolume = 8,
    /// `destroy_volume`.
    DestroyVolume = 9,
    /// `update_weight`.
    UpdateWeight = 10,
    /// `view_role`.
    ViewRole = 11,
    /// `get_endpoint`.
    GetEndpoint = 12,
    /// `view_framework`.
    ViewFramework = 13,
    /// `view_task`.
    ViewTask = 14,
    /// `view_executor`.
    ViewExecutor = 15,
    /// `access_sandbox`.
    AccessSandbox = 16,
    /// `access_mesos_log`.
    AccessMesosLog = 17,
    /// `view_flags`.
    ViewFlags = 18,
    /// `set_log_level`.
    SetLogLevel = 19,
    /// `register_agent`.
    RegisterAgent = 20,
    /// `launch_nested_container_as_user`.
    LaunchNestedContainerAsUser = 21,
    /// `launch_nested_container_under_parent_with_user`.
    LaunchNestedContainerUnderParentWithUser = 22,
    /// `launch_nested_container_session_as_user`.
    LaunchNestedContainerSessionAsUser = 23,
    /// `launch_nested_container_session_under_parent_with_user`.
    LaunchNestedContainerSessionUnderParentWithUser = 24,
    /// `attach_container_input`.
    AttachContainerInput = 25,
    /// `attach_container_output`.
    AttachContainerOutput = 26,
    /// `kill_nested_container`.
    KillNestedContainer = 27,
    /// `wait_nested_container`.
    WaitNestedContainer = 28,
    /// `remove_nested_container`.
    RemoveNestedContainer = 29,
    /// `view_container`.
    ViewContainer = 30,
    /// `update_maintenance_schedule`.
    UpdateMaintenanceSchedule = 31,
    /// `get_maintenance_schedule`.
    GetMaintenanceSchedule = 32,
    /// `start_maintenance`.
    StartMaintenance = 33,
    /// `stop_maintenance`.
    StopMaintenance = 34,
    /// `get_maintenance_status`.
    GetMaintenanceStatus = 35,
    /// `drain_agent`.
    DrainAgent = 36,
    /// `deactivate_agent`.
    DeactivateAgent = 37,
    /// `reactivate_agent`.
    ReactivateAgent = 38,
    /// `mark_agent_gone`.
    MarkAgentGone = 39,
    /// `launch_standalone_container`.
    LaunchStandaloneContainer = 40,
    /// `kill_standalone_container`.
    KillStandaloneContainer = 41,
    /// `wait_standalone_container`.
    WaitStandaloneContainer = 42,
    /// `remove_standalone_container`.
    RemoveStandaloneContainer = 43,
    /// `view_standalone_container`.
    ViewStandaloneContainer = 44,
    /// `modify_resource_provider_config`.
    ModifyResourceProviderConfig = 45,
    /// `mark_resource_provider_gone`.
    MarkResourceProviderGone = 46,
    /// `view_resource_provider`.
    ViewResourceProvider = 47,
    /// `prune_images`.
    PruneImages = 48,
    /// `create_block_disk`.
    CreateBlockDisk = 49,
    /// `destroy_block_disk`.
    DestroyBlockDisk = 50,
    /// `create_mount_disk`.
    CreateMountDisk = 51,
    /// `destroy_mount_disk`.
    DestroyMountDisk = 52,
    /// `destroy_raw_disk`.
    DestroyRawDisk = 53,
}

use mesos_auth_acl_action as A;

/// The C number of every action, and the core action it stands for. The
/// number is the position in this table (a unit test checks it, and that
/// every core action is here).
pub(crate) const ACTIONS: &[(mesos_auth_acl_action, Action)] = &[
    (A::RegisterFramework, Action::RegisterFrameworks),
    (A::RunTask, Action::RunTasks),
    (A::ReserveResources, Action::ReserveResources),
    (A::UnreserveResources, Action::UnreserveResources),
    (A::UpdateQuota, Action::UpdateQuotas),
    (A::GetQuota, Action::GetQuotas),
    (A::TeardownFramework, Action::TeardownFrameworks),
    (A::CreateVolume, Action::CreateVolumes),
    (A::ResizeVolume, Action::ResizeVolumes),
    (A::DestroyVolume, Action::DestroyVolumes),
    (A::UpdateWeight, Action::UpdateWeights),
    (A::ViewRole, Action::ViewRoles),
    (A::GetEndpoint, Action::GetEndpoints),
    (A::ViewFramework, Action::ViewFrameworks),
    (A::ViewTask, Action::ViewTasks),
    (A::ViewExecutor, Action::ViewExecutors),
    (A::AccessSandbox, Action::AccessSandboxes),
    (A::AccessMesosLog, Action::AccessMesosLogs),
    (A::ViewFlags, Action::ViewFlags),
    (A::SetLogLevel, Action::SetLogLevel),
    (A::RegisterAgent, Action::RegisterAgents),
    (
        A::LaunchNestedContainerAsUser,
        Action::LaunchNestedContainersAsUser,
    ),
    (
        A::LaunchNestedContainerUnderParentWithUser,
        Action::LaunchNestedContainersUnderParentWithUser,
    ),
    (
        A::LaunchNestedContainerSessionAsUser,
        Action::LaunchNestedContainerSessionsAsUser,
    ),
    (
        A::LaunchNestedContainerSessionUnderParentWithUser,
        Action::LaunchNestedContainerSessionsUnderParentWithUser,
    ),
    (A::AttachContainerInput, Action::AttachContainersInput),
    (A::AttachContainerOutput, Action::AttachContainersOutput),
    (A::KillNestedContainer, Action::KillNestedContainers),
    (A::WaitNestedContainer, Action::WaitNestedContainers),
    (A::RemoveNestedContainer, Action::RemoveNestedContainers),
    (A::ViewContainer, Action::ViewContainers),
    (
        A::UpdateMaintenanceSchedule,
        Action::UpdateMaintenanceSchedules,
    ),
    (A::GetMaintenanceSchedule, Action::GetMaintenanceSchedules),
    (A::StartMaintenance, Action::StartMaintenances),
    (A::StopMaintenance, Action::StopMaintenances),
    (A::GetMaintenanceStatus, Action::GetMaintenanceStatuses),
    (A::DrainAgent, Action::DrainAgents),
    (A::DeactivateAgent, Action::DeactivateAgents),
    (A::ReactivateAgent, Action::ReactivateAgents),
    (A::MarkAgentGone, Action::MarkAgentsGone),
    (
        A::LaunchStandaloneContainer,
        Action::LaunchStandaloneContainers,
    ),
    (A::KillStandaloneContainer, Action::KillStandaloneContainers),
    (A::WaitStandaloneContainer, Action::WaitStandaloneContainers),
    (
        A::RemoveStandaloneContainer,
        Action::RemoveStandaloneContainers,
    ),
    (A::ViewStandaloneContainer, Action::ViewStandaloneContainers),
    (
        A::ModifyResourceProviderConfig,
        Action::ModifyResourceProviderConfigs,
    ),
    (
        A::MarkResourceProviderGone,
        Action::MarkResourceProvidersGone,
    ),
    (A::ViewResourceProvider, Action::ViewResourceProviders),
    (A::PruneImages, Action::PruneImages),
    (A::CreateBlockDisk, Action::CreateBlockDisks),
    (A::DestroyBlockDisk, Action::DestroyBlockDisks),
    (A::CreateMountDisk, Action::CreateMountDisks),
    (A::DestroyMountDisk, Action::DestroyMountDisks),
    (A::DestroyRawDisk, Action::DestroyRawDisks),
];

/// The core action behind a C number.
#[inline(always)]
fn action_of(n: u32) -> Result<Action, mesos_auth_result> {
    match ACTIONS.get(n as usize) {
        Some((_, a)) => Ok(*a),
        None => Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("unknown ACL action {n}"),
        )),
    }
}

/// The C number of a core action (`None` for one this API does not know yet).
fn number_of(action: Action) -> Option<u32> {
    ACTIONS
        .iter()
        .position(|(_, a)| *a == action)
        .and_then(|i| u32::try_from(i).ok())
}

/// Our action name (`run_task`), a list key (`run_tasks`), or a Mesos
/// `authorization::Action` name (`RUN_TASK`, `GET_ENDPOINT_WITH_PATH`,
/// `UPDATE_QUOTA_WITH_CONFIG`, `REGISTER_FRAMEWORK_WITH_ROLE`, ...).
fn action_named(name: &str) -> Option<Action> {
    if let Some(a) = Action::from_name(name) {
        return Some(a);
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let base = [
        "_with_role",
        "_with_principal",
        "_with_path",
        "_with_config",
    ]
    .iter()
    .find_map(|s| lower.strip_suffix(s))
    .unwrap_or(&lower);
    Action::from_name(base)
}

/// What a request names as its object (`uint32_t` in `mesos_auth_acl_object.kind`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_acl_object_kind {
    /// No object: Mesos treats it as ANY (every object).
    None = 0,
    /// One object (`value`): a role, user, principal, path, ...
    One = 1,
    /// Several roles (`values`, `values_len`): a MULTI_ROLE framework's
    /// roles for `REGISTER_FRAMEWORK`, or the distinct roles of one RESERVE.
    /// Every role must be allowed; an empty list follows Mesos (permissive
    /// for REGISTER_FRAMEWORK, allowed for RESERVE). Other actions deny a list.
    Many = 2,
}

/// Which legacy (Mesos 1.0-1.2) quota call an `UPDATE_QUOTA` request is
/// (`uint32_t` in `mesos_auth_acl_request.legacy_quota_op`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_acl_legacy_quota_op {
    /// A modern request: `update_quotas` applies.
    None = 0,
    /// `SetQuota`: `set_quotas` applies when a legacy list is in use.
    SetQuota = 1,
    /// `RemoveQuota`: `remove_quotas` applies when a legacy list is in use.
    RemoveQuota = 2,
}

/// Why a decision came out as it did (`uint32_t` in `mesos_auth_acl_decision.reason`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mesos_auth_acl_reason {
    /// The first ACL whose subject and object matched decided (`list`,
    /// `index`, `line`, `column` say which).
    Rule = 0,
    /// No ACL matched: the policy's `permissive` flag decided.
    NoMatch = 1,
    /// A MULTI_ROLE framework with no roles: `permissive` decided, whatever
    /// the ACLs say (as Mesos).
    NoRoles = 2,
    /// A RESERVE of no roles: nothing to authorize, allowed (as Mesos).
    NothingToAuthorize = 3,
    /// The request itself was malformed (a control character, an invalid
    /// role, a list where one object is expected, too long): denied, never
    /// the permissive default. `mesos_auth_acl_explain` says what.
    InvalidRequest = 4,
}

/// An object of a request. On input, a view's `data` may be NULL when its
/// `len` is 0. Strings must be UTF-8 without NUL.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_acl_object {
    /// A `mesos_auth_acl_object_kind`.
    pub kind: u32,
    /// The object, for `MESOS_AUTH_ACL_OBJECT_KIND_ONE`.
    pub value: mesos_auth_str,
    /// The roles, for `MESOS_AUTH_ACL_OBJECT_KIND_MANY` (NULL allowed when
    /// `values_len` is 0).
    pub values: *const mesos_auth_str,
    /// How many roles `values` holds.
    pub values_len: usize,
}

/// One authorization question.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_acl_request {
    /// A `mesos_auth_acl_action`.
    pub action: u32,
    /// Who asks. `principal.data == NULL` (with `len` 0) means no principal
    /// (an unauthenticated caller: Mesos's ANY subject); a non-NULL `data`
    /// with `len` 0 is the empty principal, a real one, as in Mesos.
    pub principal: mesos_auth_str,
    /// On what.
    pub object: mesos_auth_acl_object,
    /// A `mesos_auth_acl_legacy_quota_op`; only for `UPDATE_QUOTA`, 0 otherwise.
    pub legacy_quota_op: u32,
}

/// A decision. `allowed` is the answer; the rest says why.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mesos_auth_acl_decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// A `mesos_auth_acl_reason`.
    pub reason: u32,
    /// The policy's `permissive` flag.
    pub permissive: bool,
    /// For `REASON_RULE`: the deciding ACL's list (`run_tasks`), static
    /// storage, valid forever. Empty otherwise.
    pub list: mesos_auth_str,
    /// For `REASON_RULE`: its position in the list, from 0.
    pub index: u32,
    /// For `REASON_RULE`: the line of its JSON object, from 1 (0 otherwise).
    pub line: u32,
    /// For `REASON_RULE`: the column (characters, from 1; 0 otherwise).
    pub column: u32,
    /// The generation of the policy that decided (0 for the first, +1 per
    /// successful reload).
    pub generation: u64,
}

impl mesos_auth_acl_decision {
    #[inline(always)]
    fn new(d: &Decision, permissive: bool, generation: u64) -> Self {
        let (reason, rule) = match d.reason() {
            Reason::Rule(r) => (mesos_auth_acl_reason::Rule, Some(r)),
            Reason::NoMatch { .. } => (mesos_auth_acl_reason::NoMatch, None),
            Reason::NoRoles { .. } => (mesos_auth_acl_reason::NoRoles, None),
            Reason::NothingToAuthorize => (mesos_auth_acl_reason::NothingToAuthorize, None),
            Reason::InvalidRequest(_) => (mesos_auth_acl_reason::InvalidRequest, None),
        };
        // Only a rule has a list and a place; the other reasons report none.
        let (list, index, location) =
            rule.map_or((mesos_auth_str::EMPTY, 0, Default::default()), |r| {
                (
                    mesos_auth_str::from_static(r.list.key()),
                    r.index,
                    r.location,
                )
            });
        Self {
            allowed: d.is_allowed(),
            reason: reason as u32,
            permissive,
            list,
            index,
            line: location.line,
            column: location.column,
            generation,
        }
    }
}

/// A compiled ACL policy being served, reloadable while in use.
///
/// Thread safety: shared and reference-counted. Every function taking a
/// `const mesos_auth_acl *` may be called from any number of threads at
/// once, reloads included: a reload compiles the new policy first and swaps
/// it in atomically, so each decision sees the old policy or the new one,
/// never a mix; an invalid policy is refused and the old one keeps serving.
/// Decisions never block on a reload.
pub struct mesos_auth_acl {
    _private: [u8; 0],
}

pub(crate) struct Policy {
    path: Option<PathBuf>,
    options: Options,
    current: Reloadable<CompiledAcls>,
    /// Warnings (lenient mode) of the policy now served. Its lock also
    /// serialises reloads, so they always describe the policy being served.
    warnings: Mutex<Arc<Vec<String>>>,
    sink: SharedSink,
}

impl Castable for mesos_auth_acl {
    type RustType = Policy;
    const KIND: Kind = Kind::Acl;
    const OWNERSHIP: Ownership = Ownership::Arc;
}

/// Records the error (line:column and JSON path; an ACL policy holds no
/// secret) and picks a code.
fn acl_error(e: &AclError) -> mesos_auth_result {
    let code = match e {
        AclError::Invalid(_) => mesos_auth_result::ParseError,
        AclError::Limit(_) => mesos_auth_result::LimitExceeded,
        _ => mesos_auth_result::FileError,
    };
    fail(code, e)
}

fn options(flags: u32) -> Result<Options, mesos_auth_result> {
    if flags & !ALL_FLAGS != 0 {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("unknown ACL flag bits {:#x}", flags & !ALL_FLAGS),
        ));
    }
    Ok(Options::new().lenient(flags & MESOS_AUTH_ACL_LENIENT != 0))
}

/// Compiles a parsed policy, keeping its warnings.
fn compile(src: Result<AclSource, AclError>) -> Result<(CompiledAcls, Vec<String>), AclError> {
    let src = src?;
    let compiled = Compiler::new().compile(&src)?;
    let warnings = src.warnings().iter().map(ToString::to_string).collect();
    Ok((compiled, warnings))
}

impl Policy {
    /// Compiles `text` with the handle's flags and swaps it in (the
    /// ZooKeeper watch's way in).
    #[cfg(feature = "zk")]
    pub(crate) fn reload_text(&self, text: &str) -> Result<u64, mesos_auth_result> {
        self.reload(|| acl::parse_with(text, self.options))
    }

    /// Where the handle's events go.
    #[cfg(feature = "zk")]
    pub(crate) fn sink(&self) -> &SharedSink {
        &self.sink
    }

    fn warnings(&self) -> Arc<Vec<String>> {
        match self.warnings.lock() {
            Ok(w) => Arc::clone(&w),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    fn reload(
        &self,
        read: impl FnOnce() -> Result<AclSource, AclError>,
    ) -> Result<u64, mesos_auth_result> {
        let mut warnings = match self.warnings.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        let mut fresh = Vec::new();
        let generation = self
            .current
            .try_reload(|_| {
                compile(read()).map(|(c, w)| {
                    fresh = w;
                    c
                })
            })
            .map_err(|e| acl_error(&e))?;
        *warnings = Arc::new(fresh);
        Ok(generation)
    }

    /// Decides one request against the policy served now and writes the
    /// decision to `out`. The C struct is built after the policy is let go:
    /// releasing it is a locked instruction, which waits for every store
    /// before it, so building `out` first would put the conversion's
    /// latency on every call instead of overlapping it with the next.
    ///
    /// # Safety
    ///
    /// `out` valid for one write.
    #[inline(always)]
    unsafe fn decide_into(&self, request: &Request<'_>, out: *mut mesos_auth_acl_decision) {
        // No reference count taken: one decision is a short use.
        let (d, permissive, generation) = self.current.with(|acls, generation| {
            let d = acls.authorize(request);
            if self.sink.is_some() {
                self.audit(request, &d, acls, generation);
            }
            (d, acls.permissive(), generation)
        });
        // SAFETY: the caller's contract.
        unsafe { out.write(mesos_auth_acl_decision::new(&d, permissive, generation)) };
    }

    /// [`decide_into`](Self::decide_into) for any request (a list of
    /// roles, or an error to report), out of line. Writes `out` only on
    /// success.
    ///
    /// # Safety
    ///
    /// As [`read_request`]; `out` valid for one write.
    #[inline(never)]
    unsafe fn decide_general(
        &self,
        request: *const mesos_auth_acl_request,
        out: *mut mesos_auth_acl_decision,
    ) -> Result<(), mesos_auth_result> {
        let mut roles = Vec::new();
        // SAFETY: forwarded caller contract.
        let req = unsafe { read_request(request, &mut roles)? };
        // SAFETY: forwarded caller contract.
        unsafe { self.decide_into(&req, out) };
        Ok(())
    }

    /// Records a decision in the audit sink (out of line: it allocates, and
    /// a policy without a sink should not carry its code on the hot path).
    #[inline(never)]
    fn audit(&self, request: &Request<'_>, d: &Decision, acls: &CompiledAcls, generation: u64) {
        let event = DecisionEvent::new(request, d)
            .with_policy(acls)
            .with_generation(generation);
        audit::record(&self.sink, event);
    }
}

fn serve(
    path: Option<PathBuf>,
    options: Options,
    src: Result<AclSource, AclError>,
    sink: SharedSink,
) -> Result<Policy, mesos_auth_result> {
    let (compiled, warnings) = compile(src).map_err(|e| acl_error(&e))?;
    Ok(Policy {
        path,
        options,
        current: Reloadable::new(compiled),
        warnings: Mutex::new(Arc::new(warnings)),
        sink,
    })
}

/// Reads an optional principal: `data == NULL` and `len == 0` is none.
///
/// # Safety
///
/// The view must be valid as documented on `mesos_auth_acl_request.principal`.
#[inline(always)]
unsafe fn principal<'a>(p: mesos_auth_str) -> Result<Option<&'a str>, mesos_auth_result> {
    if p.data.is_null() && p.len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded caller contract.
    unsafe { handle::string(p.data, p.len, "principal") }.map(Some)
}

/// Reads an object from C. Only a list of roles allocates: its views are
/// collected into `roles`, which the returned object borrows.
///
/// # Safety
///
/// The views in `o` must be valid as documented on `mesos_auth_acl_object`.
#[inline(always)]
unsafe fn read_object<'a>(
    o: &mesos_auth_acl_object,
    roles: &'a mut Vec<&'a str>,
) -> Result<Object<'a>, mesos_auth_result> {
    match o.kind {
        // SAFETY: forwarded caller contract.
        0 | 1 => unsafe { single_object(o) },
        // SAFETY: forwarded caller contract.
        _ => unsafe { read_roles(o, roles) },
    }
}

/// [`read_object`] for kind 0 (none) or 1 (one object); any other kind
/// reads as none, so the caller checks the kind first.
///
/// # Safety
///
/// As [`read_object`].
#[inline(always)]
unsafe fn single_object<'a>(o: &mesos_auth_acl_object) -> Result<Object<'a>, mesos_auth_result> {
    if o.kind == 1 {
        // SAFETY: forwarded caller contract.
        Ok(Object::One(unsafe {
            handle::string(o.value.data, o.value.len, "object.value")?
        }))
    } else {
        Ok(Object::Absent)
    }
}

/// [`read_object`] for a list of roles (or an unknown kind), out of line.
///
/// # Safety
///
/// As [`read_object`].
#[inline(never)]
unsafe fn read_roles<'a>(
    o: &mesos_auth_acl_object,
    roles: &'a mut Vec<&'a str>,
) -> Result<Object<'a>, mesos_auth_result> {
    if o.kind != 2 {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("unknown object kind {}", o.kind),
        ));
    }
    if o.values_len == 0 {
        return Ok(Object::many(&[]));
    }
    if o.values.is_null() {
        return Err(fail(
            mesos_auth_result::NullParameter,
            "object.values: NULL pointer with a non-zero length",
        ));
    }
    if o.values_len > isize::MAX as usize / size_of::<mesos_auth_str>() {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            "object.values: length too large",
        ));
    }
    // SAFETY: non-null, length bounded, readable by the caller's contract.
    let views = unsafe { std::slice::from_raw_parts(o.values, o.values_len) };
    roles.reserve_exact(views.len());
    for v in views {
        // SAFETY: forwarded caller contract for each view.
        roles.push(unsafe { handle::string(v.data, v.len, "object.values[]")? });
    }
    Ok(Object::many(roles.as_slice()))
}

/// Checks an object from C without deciding anything.
///
/// # Safety
///
/// As [`read_object`].
unsafe fn check_object(o: &mesos_auth_acl_object) -> Result<(), mesos_auth_result> {
    let mut roles = Vec::new();
    // SAFETY: forwarded caller contract.
    unsafe { read_object(o, &mut roles) }.map(|_| ())
}

#[inline(always)]
fn legacy_op(n: u32) -> Result<Option<LegacyQuotaOp>, mesos_auth_result> {
    match n {
        0 => Ok(None),
        1 => Ok(Some(LegacyQuotaOp::SetQuota)),
        2 => Ok(Some(LegacyQuotaOp::RemoveQuota)),
        n => Err(fail(
            mesos_auth_result::InvalidParameter,
            format_args!("unknown legacy quota op {n}"),
        )),
    }
}

/// Reads a request from C; a list of roles is collected into `roles`,
/// which the request borrows.
///
/// # Safety
///
/// `req` NULL or valid for one read, its views valid as documented.
unsafe fn read_request<'a>(
    req: *const mesos_auth_acl_request,
    roles: &'a mut Vec<&'a str>,
) -> Result<Request<'a>, mesos_auth_result> {
    if req.is_null() {
        return Err(fail(mesos_auth_result::NullParameter, "request is NULL"));
    }
    // SAFETY: non-null; readable by the caller's contract; views forwarded.
    unsafe { read_request_with(&*req, |o| read_object(o, roles)) }
}

/// [`read_request`] for a request of no object or one object (the caller
/// checked `object.kind`), inline and without the roles vector: this is
/// every decision's path, and building the object here keeps it out of
/// memory.
///
/// # Safety
///
/// The views in `r` valid as documented.
#[inline(always)]
unsafe fn read_single_request(
    r: &mesos_auth_acl_request,
) -> Result<Request<'_>, mesos_auth_result> {
    // SAFETY: forwarded caller contract.
    unsafe { read_request_with(r, |o| single_object(o)) }
}

/// The checks every request gets, in order (action, legacy op, principal,
/// then `object`'s own), and the request they make.
///
/// # Safety
///
/// The views in `r` valid as documented.
#[inline(always)]
unsafe fn read_request_with<'a>(
    r: &'a mesos_auth_acl_request,
    object: impl FnOnce(&'a mesos_auth_acl_object) -> Result<Object<'a>, mesos_auth_result>,
) -> Result<Request<'a>, mesos_auth_result> {
    let (action, legacy) = action_and_legacy(r)?;
    // SAFETY: forwarded caller contract.
    let principal = unsafe { principal(r.principal)? };
    let mut request = Request::new(action, principal, object(&r.object)?);
    request.legacy_quota_op = legacy;
    Ok(request)
}

#[inline(always)]
fn action_and_legacy(
    r: &mesos_auth_acl_request,
) -> Result<(Action, Option<LegacyQuotaOp>), mesos_auth_result> {
    let action = action_of(r.action)?;
    let legacy = legacy_op(r.legacy_quota_op)?;
    if legacy.is_some() && action != Action::UpdateQuotas {
        return Err(fail(
            mesos_auth_result::InvalidParameter,
            "legacy_quota_op is only for UPDATE_QUOTA",
        ));
    }
    Ok((action, legacy))
}

impl mesos_auth_acl {
    /// Compiles an ACL policy (`len` bytes of UTF-8 JSON at `text`, the
    /// Mesos `--acls` format). `flags` is 0 (strict) or
    /// `MESOS_AUTH_ACL_LENIENT`. `audit` may be NULL; otherwise every
    /// decision is recorded in it (which allocates per decision). A bad
    /// policy gives `MESOS_AUTH_RESULT_PARSE_ERROR` (or `MESOS_AUTH_RESULT_LIMIT_EXCEEDED`) and
    /// `mesos_auth_last_error` says where: `line:column: $.json.path: what`,
    /// every problem found, `; `-separated. On success `*out` gets a new
    /// handle. The text may be freed as soon as the call returns.
    ///
    /// # Safety
    ///
    /// `text` valid for `len` bytes; `audit` NULL or live; `out` valid for
    /// one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_compile_buffer(
        text: *const c_char,
        len: usize,
        flags: u32,
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_acl,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let text = unsafe { handle::string(text, len, "text")? };
                let options = options(flags)?;
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                serve(None, options, acl::parse_with(text, options), sink)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Reads and compiles the ACL file at `path` (`path_len` bytes of UTF-8;
    /// a `file://` prefix is taken off, as Mesos flags allow). `flags`,
    /// `audit` and errors as `mesos_auth_acl_compile_buffer`; a file that
    /// cannot be read gives `MESOS_AUTH_RESULT_FILE_ERROR`.
    ///
    /// # Safety
    ///
    /// `path` valid for `path_len` bytes; `audit` NULL or live; `out` valid
    /// for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_load_path(
        path: *const c_char,
        path_len: usize,
        flags: u32,
        audit: *const mesos_auth_audit,
        out: *mut *const mesos_auth_acl,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            let run = || {
                // SAFETY: forwarded caller contract.
                let path = unsafe { handle::string(path, path_len, "path")? };
                if path.is_empty() {
                    return Err(fail(mesos_auth_result::InvalidParameter, "path is empty"));
                }
                let options = options(flags)?;
                // SAFETY: forwarded caller contract.
                let sink = unsafe { audit::optional_sink(audit)? };
                let path = PathBuf::from(path.strip_prefix("file://").unwrap_or(path));
                let src = acl::read_file(&path, options);
                serve(Some(path), options, src, sink)
            };
            // SAFETY: out checked non-null; writable by contract.
            unsafe { handle::finish_arc(run(), out) }
        }
    }

    /// Re-reads the file the handle was loaded from, compiles it and swaps
    /// it in; `*out_generation` gets the new generation. An invalid policy
    /// is refused (the error says where) and the old one keeps serving. A
    /// handle compiled from a buffer gives `MESOS_AUTH_RESULT_INVALID_STATE`.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_reload(
        acl: *const mesos_auth_acl,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(acl, out_generation, "out_generation", |p| {
                    let Some(path) = p.path.clone() else {
                        return Err(fail(
                            mesos_auth_result::InvalidState,
                            "this policy was not loaded from a file; use mesos_auth_acl_reload_buffer",
                        ));
                    };
                    p.reload(|| acl::read_file(&path, p.options))
                })
            }
        }
    }

    /// Compiles `len` bytes of ACL JSON at `text` with the handle's flags
    /// and swaps it in, as `mesos_auth_acl_reload` (works for any handle).
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `text` valid for `len` bytes; `out_generation`
    /// valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_reload_buffer(
        acl: *const mesos_auth_acl,
        text: *const c_char,
        len: usize,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(acl, out_generation, "out_generation", |p| {
                    let text = handle::string(text, len, "text")?;
                    p.reload(|| acl::parse_with(text, p.options))
                })
            }
        }
    }

    /// The generation of the policy being served (0 for the first, +1 per
    /// successful reload).
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `out_generation` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_generation(
        acl: *const mesos_auth_acl,
        out_generation: *mut u64,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get(acl, out_generation, "out_generation", |p| Ok(p.current.generation()))
            }
        }
    }

    /// How many ACLs (across all lists) the policy being served has.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `out_n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_rule_count(
        acl: *const mesos_auth_acl,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(acl, out_n, "out_n", |p| Ok(p.current.snapshot().rule_count())) }
        }
    }

    /// How many warnings (lenient mode: ignored unknown keys, coercions)
    /// the policy being served had.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `out_n` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_warnings_count(
        acl: *const mesos_auth_acl,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::get(acl, out_n, "out_n", |p| Ok(p.warnings().len())) }
        }
    }

    /// Writes warning number `index` (`line:column: $.path: what`) into
    /// `buf` as a NUL-terminated string, its length into `*out_n`; as
    /// `mesos_auth_result_message` for a short buffer. An index past the
    /// end gives `MESOS_AUTH_RESULT_INVALID_PARAMETER`. A reload in between may change the list.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `buf` valid for `len` bytes; `out_n` for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_warning(
        acl: *const mesos_auth_acl,
        index: usize,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            match unsafe { handle::with_ref(acl, |p| Ok(p.warnings())) } {
                // SAFETY: forwarded caller contract.
                Ok(w) => unsafe { write_item(&w, index, "warning", buf, len, out_n) },
                Err(e) => e,
            }
        }
    }

    /// Decides one request against the policy being served now and writes
    /// the decision to `*out`. `OK` means a decision was made: read
    /// `out->allowed` (a malformed request, e.g. a role like `a/../b`, is a
    /// decision too: denied, `REASON_INVALID_REQUEST`). Any other result
    /// (NULL, invalid UTF-8, an unknown action or kind) writes nothing: the
    /// host must then deny. Allocates nothing for one object and no audit.
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `request` NULL or valid for one read, its views
    /// valid as documented; `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_authorize(
        acl: *const mesos_auth_acl,
        request: *const mesos_auth_acl_request,
        out: *mut mesos_auth_acl_decision,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out.is_null() {
                return fail(mesos_auth_result::NullParameter, "out is NULL");
            }
            // The decision is written from inside the call, as its last step
            // (so still only on success): carrying the 56-byte struct out
            // through two panic boundaries costs more than the decision's
            // own bookkeeping. One object or none (nearly every request)
            // is read inline; a list or an error takes the general path.
            // SAFETY: forwarded caller contract; `out` checked non-null and
            // writable by contract.
            handle::code(unsafe {
                handle::with_ref(acl, |p| {
                    match request.as_ref() {
                        Some(r) if r.object.kind <= 1 => {
                            p.decide_into(&read_single_request(r)?, out);
                            Ok(())
                        }
                        _ => p.decide_general(request, out),
                    }
                })
            })
        }
    }

    /// Decides `action` by `principal` on each of `n` objects, all against
    /// the same policy generation, writing decision `i` to `out[i]` (an
    /// approver filtering a list of tasks, say). `principal` follows the
    /// rule of `mesos_auth_acl_request.principal` (`data == NULL`: none).
    /// Every object is checked before any decision is written: on any error
    /// nothing is written. `n == 0` is OK (and `objects`, `out` may then be
    /// NULL).
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `principal` valid as documented; `objects` valid
    /// for `n` reads, their views valid; `out` valid for `n` writes.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_authorize_many(
        acl: *const mesos_auth_acl,
        action: u32,
        principal: mesos_auth_str,
        objects: *const mesos_auth_acl_object,
        n: usize,
        out: *mut mesos_auth_acl_decision,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            let r = unsafe {
                handle::with_ref(acl, |p| {
                    let action = action_of(action)?;
                    let who = self::principal(principal)?;
                    if n == 0 {
                        return Ok(Vec::new());
                    }
                    if objects.is_null() || out.is_null() {
                        return Err(fail(
                            mesos_auth_result::NullParameter,
                            "objects or out is NULL with a non-zero n",
                        ));
                    }
                    let widest =
                        size_of::<mesos_auth_acl_decision>().max(size_of::<mesos_auth_acl_object>());
                    if n > isize::MAX as usize / widest {
                        return Err(fail(mesos_auth_result::InvalidParameter, "n too large"));
                    }
                    let objs = std::slice::from_raw_parts(objects, n);
                    for o in objs {
                        check_object(o)?;
                    }
                    // Read every request first, then decide them together
                    // through the batch path, which overlaps their memory
                    // loads. A role list borrows its own (empty until read)
                    // slot of `roles`.
                    let mut roles: Vec<Vec<&str>> = std::iter::repeat_with(Vec::new).take(n).collect();
                    let requests = objs
                        .iter()
                        .zip(roles.iter_mut())
                        .map(|(o, roles)| Ok(Request::new(action, who, read_object(o, roles)?)))
                        .collect::<Result<Vec<_>, mesos_auth_result>>()?;
                    let snap = p.current.snapshot();
                    let (permissive, generation) = (snap.permissive(), snap.generation());
                    let mut decided = vec![Decision::Deny(Reason::NoMatch { permissive: false }); n];
                    snap.authorize_many(&requests, &mut decided);
                    if p.sink.is_some() {
                        for (req, d) in requests.iter().zip(&decided) {
                            p.audit(req, d, &snap, generation);
                        }
                    }
                    Ok(decided
                        .iter()
                        .map(|d| mesos_auth_acl_decision::new(d, permissive, generation))
                        .collect::<Vec<_>>())
                })
            };
            match r {
                Ok(decisions) => {
                    // SAFETY: decisions is empty or `out` is non-null and
                    // valid for n == decisions.len() writes (checked above,
                    // caller's contract); the two cannot overlap.
                    unsafe {
                        std::ptr::copy_nonoverlapping(decisions.as_ptr(), out, decisions.len());
                    }
                    mesos_auth_result::Ok
                }
                Err(e) => e,
            }
        }
    }

    /// Decides `request` as `mesos_auth_acl_authorize` and writes why, in
    /// words, into `buf` (NUL-terminated; length in `*out_n`; as
    /// `mesos_auth_result_message` for a short buffer), e.g.
    /// `allow: decided by ACL run_tasks[0] (line 3) (policy generation 0)` or
    /// `deny: no ACL matched, permissive = false (policy generation 2)`.
    /// Never a secret (a policy holds none).
    ///
    /// # Safety
    ///
    /// `acl` NULL or live; `request` as for `mesos_auth_acl_authorize`;
    /// `buf` valid for `len` bytes; `out_n` for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_explain(
        acl: *const mesos_auth_acl,
        request: *const mesos_auth_acl_request,
        buf: *mut c_char,
        len: usize,
        out_n: *mut usize,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe {
                handle::get_text(acl, buf, len, out_n, |p| {
                    let snap = p.current.snapshot();
                    let mut roles = Vec::new();
                    let d = snap.authorize(&read_request(request, &mut roles)?);
                    Ok(format!("{d} (policy generation {})", snap.generation()))
                })
            }
        }
    }

    /// A new reference to the same object: a distinct pointer in `*out`,
    /// released by its own `_free` (each reference is freed exactly once;
    /// a second `_free` of one returns `MESOS_AUTH_RESULT_WRONG_HANDLE`).
    ///
    /// # Safety
    ///
    /// `acl` NULL or live (or released: refused); `out` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_up_ref(
        acl: *const mesos_auth_acl,
        out: *mut *const mesos_auth_acl,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::up_ref(acl, out) }
        }
    }

    /// Drops the caller's reference. NULL is a no-op. A reference already
    /// released is refused with `MESOS_AUTH_RESULT_WRONG_HANDLE` (the object,
    /// which others may still hold, is untouched).
    ///
    /// # Safety
    ///
    /// `acl` NULL, live, or released by an earlier `_free` (refused).
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_free(acl: *const mesos_auth_acl) -> mesos_auth_result {
        ffi_panic_boundary! {
            // SAFETY: forwarded caller contract.
            unsafe { handle::free(acl) }
        }
    }
}

impl mesos_auth_acl_action {
    /// Maps an action name to its number in `*out_action`: our names
    /// (`run_task`), ACL list keys (`run_tasks`), or Mesos's
    /// `authorization::Action` names (`RUN_TASK`, `GET_ENDPOINT_WITH_PATH`,
    /// `UPDATE_QUOTA_WITH_CONFIG`, ..., as `Action_Name()` gives them).
    /// An unknown name gives `MESOS_AUTH_RESULT_INVALID_PARAMETER`. Mesos's
    /// `LAUNCH_NESTED_CONTAINER[_SESSION]` are two checks each (the
    /// `..._as_user` and `..._under_parent_with_user` lists), so they are
    /// not single actions here.
    ///
    /// # Safety
    ///
    /// `name` valid for `len` bytes; `out_action` valid for one write.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn mesos_auth_acl_action_from_name(
        name: *const c_char,
        len: usize,
        out_action: *mut u32,
    ) -> mesos_auth_result {
        ffi_panic_boundary! {
            if out_action.is_null() {
                return fail(mesos_auth_result::NullParameter, "out_action is NULL");
            }
            // SAFETY: forwarded caller contract.
            let name = match unsafe { handle::string(name, len, "name") } {
                Ok(n) => n,
                Err(e) => return e,
            };
            match action_named(name).and_then(number_of) {
                // SAFETY: checked non-null above.
                Some(n) => unsafe { handle::write_out(out_action, n) },
                None => fail(
                    mesos_auth_result::InvalidParameter,
                    format_args!("unknown ACL action `{}`", name.escape_debug()),
                ),
            }
        }
    }

    /// The name of action number `action` (`run_task`), static storage,
    /// valid forever; empty for an unknown number.
    #[unsafe(no_mangle)]
    pub extern "C" fn mesos_auth_acl_action_name(action: u32) -> mesos_auth_str {
        ffi_panic_boundary! {
            ACTIONS
                .get(action as usize)
                .map_or(mesos_auth_str::EMPTY, |(_, a)| mesos_auth_str::from_static(a.name()))
        }
    }
}
