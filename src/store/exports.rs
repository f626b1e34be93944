//! SQL for the exports area (owned by that work; see the module docs there).
