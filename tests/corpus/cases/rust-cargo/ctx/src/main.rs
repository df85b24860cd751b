mod cli;
fn main() { cli::run(); }
