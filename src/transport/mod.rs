//! The edges: how requests reach the gateway's router.

pub mod lambda;
pub mod local;
