//! SQL for the judge area (owned by that work; see the module docs there).
