//! The terminal UI: a function of state (key -> action -> update -> render).

/// Opens the TUI on `store_path`.
pub fn run(_store_path: &std::path::Path) -> anyhow::Result<()> {
    anyhow::bail!("the TUI is not built yet")
}
