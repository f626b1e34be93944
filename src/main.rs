//! The thin binary: parse the command line, run it, map errors to exit code 2.

use clap::Parser;

fn main() {
    let cli = dossier::cli::Cli::parse();
    match dossier::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dossier: {}", dossier::sanitize::clean(&format!("{e:#}"), true));
            std::process::exit(2);
        }
    }
}
