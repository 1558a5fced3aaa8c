//! The blitz command line; `cli` holds the commands.

mod cli;

fn main() {
    cli::main();
}
