//! The thin binary: parse the command line, run it, map errors to exit code 2.

use clap::Parser;

fn main() {
    // `dossier list | head` closes stdout early; Rust's print macros then panic. Treat that
    // like SIGPIPE (exit quietly) instead of printing a panic message to the terminal.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    let cli = dossier::cli::Cli::parse();
    match dossier::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                std::process::exit(141);
            }
            eprintln!("dossier: {}", dossier::cli::output::error_text(&e));
            std::process::exit(2);
        }
    }
}
