//! The jobs of the day.
mod name;
pub use name::JobName;
