//! dossier: an offline, terminal-first review workstation for container-image
//! supply-chain evidence. Layers, arrows never pointing backwards:
//! `model <- ingest / store / analysis / crypto <- workflow <- cli / tui / export`.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod cli;
pub mod crypto;
pub mod devgen;
pub mod export;
pub mod ingest;
pub mod model;
pub mod sanitize;
pub mod store;
pub mod tui;
pub mod workflow;
