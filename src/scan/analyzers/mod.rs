//! The analyzers' adapters: run a tool on a tree and read what it reports into
//! [`super::Finding`]s. Each is used only when installed.
