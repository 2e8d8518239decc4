//! keyward's integration tests: one test binary, real git in temporary repositories,
//! the real hook installed by the real install.sh.

mod util;

#[path = "../corpus/mod.rs"]
mod corpus;

mod cli;
mod config;
mod detection;
mod fix;
mod formats;
mod framework;
mod generic;
mod golden;
mod hardening;
mod heavy;
mod history;
mod holes;
mod hook;
mod install;
mod modes;
mod pipeline;
mod properties;
mod rules;
mod server;
mod server_heavy;
mod staged_walk;
