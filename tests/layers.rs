//! The layering rule as a failing build: `model <- ingest / store / analysis / crypto <-
//! workflow <- cli / tui / export`. Each layer's source is scanned for paths into layers it
//! must not know about, and SQL stays in `store`.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn violations(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for bad in forbidden {
                if code.contains(bad) {
                    out.push(format!(
                        "{}:{}: `{bad}` in layer {layer}",
                        f.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn model_imports_nothing_from_the_crate() {
    let v = violations(
        "model",
        &[
            "crate::ingest",
            "crate::store",
            "crate::analysis",
            "crate::workflow",
            "crate::cli",
            "crate::tui",
            "crate::export",
            "crate::crypto",
            "rusqlite",
        ],
    );
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn lower_layers_never_reach_up() {
    let upper = [
        "crate::workflow",
        "crate::cli",
        "crate::tui",
        "crate::export",
    ];
    for layer in ["ingest", "store", "analysis", "crypto"] {
        let v = violations(layer, &upper);
        assert!(v.is_empty(), "{v:#?}");
    }
    for layer in ["ingest", "analysis", "crypto"] {
        let v = violations(layer, &["crate::store", "rusqlite"]);
        assert!(v.is_empty(), "{v:#?}");
    }
}

#[test]
fn front_ends_never_speak_sql() {
    for layer in ["cli", "tui", "workflow", "export"] {
        let v = violations(layer, &["rusqlite", "conn()"]);
        assert!(v.is_empty(), "{v:#?}");
    }
    let v = violations("workflow", &["crate::cli", "crate::tui"]);
    assert!(v.is_empty(), "{v:#?}");
}
