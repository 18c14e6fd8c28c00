//! The `simrace` command; everything lives in [`simrace::cli`].

fn main() -> std::process::ExitCode {
    simrace::cli::main()
}
