//! The `loyalty` commands that are more than a call or two, one module each (`main` parses
//! the command line and dispatches here).

pub mod migrate_data;
