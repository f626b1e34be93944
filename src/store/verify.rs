//! SQL for the verify area (owned by that work; see the module docs there).
