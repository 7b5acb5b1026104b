//! Mesos ACLs, compiled for constant-time decisions.
//!
//! ```text
//!   ACL JSON ──parse──► AclSource ──Compiler::compile──► CompiledAcls ──authorize(Request)──► Decision
//!                          │                                                    ▲
//!                          └──────────── reference::authorize (the oracle) ─────┘
//! ```
//!
//! Semantics are those of the Mesos local authorizer (1.11): the first ACL
//! whose subject *and* object match decides; no match means `permissive`;
//! no principal means the subject is ANY; `principals: NONE` matches every
//! subject and denies; `x/%` in a hierarchical list (roles) matches every
//! role strictly below `x`; a MULTI_ROLE framework needs every role allowed,
//! and none at all gets `permissive`; a RESERVE of several roles needs every
//! role allowed, and none is not refused.
//!
//! ```
//! use mesos_auth::acl::{self, Action, Compiler, Object, Request};
//!
//! let src = acl::parse(r#"{
//!   "permissive": false,
//!   "run_tasks": [{"principals": {"values": ["ops"]}, "users": {"values": ["root"]}}]
//! }"#)?;
//! let acls = Compiler::new().compile(&src)?;
//! let d = acls.authorize(&Request::new(Action::RunTasks, Some("ops"), Object::One("root")));
//! assert!(d.is_allowed());
//! assert_eq!(d.rule().map(|r| r.index), Some(0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where this crate deliberately differs from Mesos
//!
//! - **Strict parsing by default.** Mesos silently drops unknown keys (a
//!   misspelt list name then means "allow" under `permissive: true`),
//!   unknown entity types, and keeps the last of duplicate keys. Here they
//!   are errors, all reported with JSON path and line:column. An unset
//!   `permissive` is an error too (threats.md AC-4). [`Options::lenient`]
//!   accepts what Mesos ≥ 1.5 accepts and reports each coercion as a warning.
//! - **Mesos bug B1 is not reproduced.** Mesos treats
//!   `{"type": "NONE", "values": ["a/%"]}` as a recursive *allow* for the
//!   subtree of `a` (its hierarchical split ignores the entity type). That
//!   fails open. Strict mode refuses the entity; lenient mode ignores the
//!   values of ANY/NONE entities, as `acls.proto` documents, so the NONE
//!   denies.
//! - **Malformed requests are denied**, never given the permissive default:
//!   principals or objects with control characters or over the value-length
//!   limit, roles that are not valid Mesos roles (`a/../b`, `a//b`, `/a`),
//!   and object lists for actions that take one object.
//! - **Legacy quota lists** (`set_quotas`, `remove_quotas`, Mesos 1.0–1.2)
//!   are parsed and consulted only for `update_quota` requests tagged with a
//!   [`LegacyQuotaOp`]; modern requests ignore them, as Mesos ≥ 1.3 does.
//!
//! Limits (threats.md §0) are enforced by [`Compiler::compile`] ([`Config`])
//! and, for the text size and nesting, by the parser.

mod compile;
mod decision;
mod error;
mod filter;
pub(crate) mod index;
mod kind;
mod lint;
pub mod reference;
mod reload;
mod source;

pub use compile::{
    CompiledAcls, Compiler, Config, DEFAULT_MAX_INDEX_ENTRIES, DEFAULT_MAX_RULES,
    DEFAULT_MAX_STRING_LEN, DEFAULT_MAX_VALUES,
};
pub use decision::{
    Decision, DecisionEvent, LegacyQuotaOp, Object, Objects, Reason, Request, RequestError, RuleRef,
};
pub use error::{AclError, Diagnostic, LimitError, LimitKind};
pub use kind::{AclList, Action};
pub use lint::{Finding, FindingKind, lint};
pub use reload::AclHandle;
pub(crate) use source::parse_full;
pub use source::{
    Acl, AclSource, DEFAULT_MAX_FILE_BYTES, Entity, Options, Value, parse, parse_with, read_file,
};

#[cfg(test)]
mod test;
