//! SQL for the review area (owned by that work; see the module docs there).
