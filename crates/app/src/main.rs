/// mimalloc: the server allocates and frees many small buffers across threads (requests,
/// rows, payloads); glibc's allocator spent about a sixth of the server's time on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    leadrouter::cli::main()
}
