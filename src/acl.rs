//! The acl component (work in progress).
