//! dayshift — a self-hosted AI team that works on one repository every day.
pub mod config;
pub mod context;
pub mod daemon;
pub mod error;
pub mod fsx;
pub mod home;
pub mod jobs;
pub mod lockfile;
pub mod markdown;
pub mod store;
pub mod tasks;
pub mod vision;

pub use error::{Error, Result};
