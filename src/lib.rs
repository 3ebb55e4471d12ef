//! dayshift — a self-hosted AI team that works on one repository every day.
pub mod cli;
pub mod config;
pub mod context;
pub mod daemon;
pub mod error;
pub mod fsx;
pub mod home;
pub mod jobs;
pub mod lockfile;
pub mod logging;
pub mod markdown;
pub mod process;
pub mod store;
pub mod tasks;
pub mod vision;

pub use error::{Error, Result};
