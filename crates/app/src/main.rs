fn main() -> std::process::ExitCode {
    leadrouter::cli::main()
}
