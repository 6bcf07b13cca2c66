//! The command line of API.md. Every command reads the environment; failures print one
//! line per problem on stderr and exit non-zero, never a panic.

use crate::config::{Config, SessionSecret};
use crate::{startup, telemetry};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use leadrouter_core::clock::Clock;
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_store::clock::SystemClock;
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "leadrouter", version, about = "Lead distribution platform")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// HTTP server, delivery worker and schedulers.
    Serve,
    /// Apply database migrations, then exit.
    Migrate,
    /// Operator accounts and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Leads in bulk.
    #[command(subcommand)]
    Leads(LeadsCommand),
    /// A consistent copy of the SQLite database, taken while the server runs.
    Backup {
        /// Where the copy goes (must not exist yet).
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum LeadsCommand {
    /// Import leads from a CSV file (first line: field names) for a source.
    Import {
        file: std::path::PathBuf,
        #[arg(long)]
        source_id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a dashboard user.
    CreateUser {
        #[arg(long)]
        email: String,
        /// The password (or use --password-stdin to keep it out of the process list).
        #[arg(long, required_unless_present = "password_stdin")]
        password: Option<String>,
        #[arg(long)]
        password_stdin: bool,
        /// `admin` (everything) or `viewer` (every page and read; no change, no export of
        /// personal data, no erasure).
        #[arg(long, default_value = "admin", value_parser = parse_role)]
        role: leadrouter_core::role::Role,
    },
    /// Create an admin API token; prints only the token.
    CreateToken {
        #[arg(long)]
        name: String,
        /// Ends the token after this long (e.g. `90d`, `12h`); without it the token lasts
        /// until revoked.
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List admin API tokens: id, name, prefix, created, last used, expiry, revoked.
    ListTokens,
    /// Revoke an admin API token by its id (from list-tokens): it stops working at once.
    RevokeToken { id: i64 },
}

/// Exit status for configuration errors.
const EXIT_CONFIG: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_process_env() {
        Ok(c) => c,
        Err(errors) => {
            for line in &errors.0 {
                eprintln!("error: {line}");
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            if let SessionSecret::Ephemeral(_) = config.session_secret {
                tracing::warn!(
                    "SESSION_SECRET is not set: using a random one, so admin sessions end \
                     at every restart and cannot be shared between instances"
                );
            }
            // Stopping is graceful from before the port is announced.
            let stop = startup::shutdown_signal();
            let listener = startup::bind(&config).await?;
            startup::serve(config, listener, stop).await
        }
        Command::Migrate => {
            let store = startup::open_store(&config).await?;
            let applied = store.applied_migrations().await?;
            store.close().await;
            tracing::info!(migrations = applied.len(), "database is up to date");
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser {
            email,
            password,
            password_stdin,
            role,
        }) => create_user(&config, email, password, password_stdin, role).await,
        Command::Leads(LeadsCommand::Import { file, source_id }) => {
            import(&config, file, source_id).await
        }
        Command::Admin(AdminCommand::CreateToken { name, expires_in }) => {
            create_token(&config, name, expires_in).await
        }
        Command::Admin(AdminCommand::ListTokens) => list_tokens(&config).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::Admin(AdminCommand::RevokeToken { id }) => revoke_token(&config, id).await,
    }
}

async fn create_user(
    config: &Config,
    email: String,
    password: Option<String>,
    password_stdin: bool,
    role: leadrouter_core::role::Role,
) -> anyhow::Result<()> {
    let password = match (password, password_stdin) {
        (Some(p), false) => p,
        (None, true) => read_password_line()?,
        _ => bail!("give exactly one of --password and --password-stdin"),
    };
    let email = email.trim().to_lowercase();
    let valid = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !valid {
        bail!("--email: not an e-mail address");
    }
    if password.chars().count() < leadrouter_web::password::MIN_PASSWORD_CHARS {
        bail!(
            "--password: must be at least {} characters",
            leadrouter_web::password::MIN_PASSWORD_CHARS
        );
    }
    let hash = leadrouter_web::password::hash(&password)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    let store = startup::open_store(config).await?;
    let id = store
        .create_admin_user(&email, &hash, role, SystemClock.now_ms(), &cli_actor())
        .await
        .context("creating the admin user")?;
    store.close().await;
    tracing::info!(user_id = id, role = role.as_str(), "admin user created");
    println_out(&format!("{} user {id} created", role.as_str()))
}

async fn import(config: &Config, file: std::path::PathBuf, source_id: i64) -> anyhow::Result<()> {
    let store = startup::open_store(config).await?;
    let dedupe = config.dedupe_window.as_millis() as i64;
    let summary = crate::import::import_csv(&store, &file, source_id, dedupe).await;
    store.close().await;
    let summary = summary?;
    tracing::info!(
        imported = summary.imported,
        duplicates = summary.duplicates,
        already_present = summary.already_present,
        rejected = summary.rejected.len(),
        "CSV import finished"
    );
    print_out(&summary.to_string())
}

async fn create_token(
    config: &Config,
    name: String,
    expires_in: Option<String>,
) -> anyhow::Result<()> {
    let name = name.trim().to_string();
    if name.is_empty() {
        bail!("--name: must not be empty");
    }
    let now = SystemClock.now_ms();
    let expires_at = match expires_in {
        Some(text) => {
            let d = crate::config::parse_duration(&text)
                .map_err(|e| anyhow::anyhow!("--expires-in: {e}"))?;
            if d.is_zero() {
                bail!("--expires-in: must be longer than 0");
            }
            Some(now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
        }
        None => None,
    };
    let token = leadrouter_web::secrets::new_admin_token();
    let store = startup::open_store(config).await?;
    let id = store
        .create_admin_token_until(
            &name,
            &hash_secret(&token),
            &display_prefix(&token),
            now,
            expires_at,
            &cli_actor(),
        )
        .await
        .context("creating the admin token")?;
    store.close().await;
    tracing::info!(token_id = id, "admin token created");
    println_out(&token)
}

async fn list_tokens(config: &Config) -> anyhow::Result<()> {
    let store = startup::open_store(config).await?;
    let tokens = store.list_admin_tokens().await;
    store.close().await;
    let now = SystemClock.now_ms();
    let when =
        |t: Option<i64>| t.map_or_else(|| "-".to_string(), leadrouter_core::localtime::rfc3339);
    let mut out = String::from("id\tname\tprefix\tcreated\tlast used\texpires\tstate\n");
    for t in tokens? {
        let state = match (t.revoked_at, t.expires_at) {
            (Some(_), _) => "revoked",
            (None, Some(e)) if e <= now => "expired",
            _ => "active",
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{state}\n",
            t.id,
            t.name,
            t.token_prefix,
            when(Some(t.created_at)),
            when(t.last_used_at),
            when(t.expires_at),
        ));
    }
    print_out(&out)
}

async fn revoke_token(config: &Config, id: i64) -> anyhow::Result<()> {
    let store = startup::open_store(config).await?;
    let done = store
        .revoke_admin_token(id, SystemClock.now_ms(), &cli_actor())
        .await;
    store.close().await;
    match done {
        Ok(()) => {
            tracing::info!(token_id = id, "admin token revoked");
            println_out(&format!("admin token {id} revoked"))
        }
        Err(leadrouter_store::StoreError::NotFound) => {
            bail!("no live admin token with id {id}")
        }
        Err(e) => Err(e).context("revoking the admin token"),
    }
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing to stdout")?;
    out.flush().context("writing to stdout")
}

/// Command output (not logs) goes to stdout.
fn println_out(line: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("writing to stdout")?;
    out.flush().context("writing to stdout")
}

async fn backup(config: &Config, file: &std::path::Path) -> anyhow::Result<()> {
    if file.exists() {
        anyhow::bail!("{} exists already; name a new file", file.display());
    }
    let store = startup::open_store(config).await?;
    let done = match create_private(file) {
        Ok(()) => store.backup_to(file).await.map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    store.close().await;
    if let Err(e) = done {
        if file.metadata().is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(file);
        }
        return Err(e);
    }
    tracing::info!(file = %file.display(), "backup written");
    Ok(())
}

/// Personal data: the copy is readable by its owner only from its first byte (made empty
/// with mode 0600 and O_EXCL, which SQLite's VACUUM INTO fills, and whose mode its journal
/// takes), never world-readable while it is written.
fn create_private(file: &std::path::Path) -> anyhow::Result<()> {
    let mut new = std::fs::OpenOptions::new();
    new.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        new.mode(0o600);
    }
    match new.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("{} exists already; name a new file", file.display())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", file.display())),
    }
}

/// Changes made with the command line are the server's own in the audit trail (whoever
/// can run it can read the database anyway).
fn cli_actor() -> leadrouter_store::audit::Actor {
    leadrouter_store::audit::Actor::system("command line")
}

fn parse_role(s: &str) -> Result<leadrouter_core::role::Role, String> {
    leadrouter_core::role::Role::parse(s).ok_or_else(|| format!("{s:?}: must be admin or viewer"))
}
