//! The command line's shape: every command, argument and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Connect identity products to ticketing and ITSM systems from a terminal or a script.
#[derive(Debug, Parser)]
#[command(name = "accesslink", version, about, long_about = None)]
#[command(after_help = "\
Examples:
  accesslink mock serve servicenow --port 8080          # a mock server, with its config snippet
  accesslink test-connection                            # every instance in accesslink.toml
  accesslink ticket get it-prod INC0010001 --output json
  accesslink ticket validate it-prod CHG0030001 --policy policy.toml --principal alice
  accesslink import accounts it-prod --format jsonl --out accounts.jsonl --resume
  accesslink provision grant it-prod 6816f79c role admin --dry-run
  accesslink config check accesslink.toml

Exit codes: 0 success (the gate allowed), 1 failure (the gate denied, a connection or an
operation failed), 2 could not run (bad configuration, bad input, the gate could not decide).")]
pub(crate) struct Cli {
    /// The configuration file of named instances.
    #[arg(
        long,
        global = true,
        env = "ACCESSLINK_CONFIG",
        default_value = "accesslink.toml"
    )]
    pub(crate) config: PathBuf,

    /// More logging on stderr: -v info, -vv debug, -vvv trace (secrets are never logged).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Output format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Lines for people.
    Text,
    /// One JSON document per result.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check or describe configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the testkit's mock servers standalone.
    #[command(subcommand)]
    Mock(MockCommand),
    /// Test the connection of instances: who we are, latency, capabilities.
    #[command(after_help = "Example:\n  accesslink test-connection it-prod eng-desk")]
    TestConnection {
        /// Instances to test; every configured instance when none is named.
        instances: Vec<String>,
    },
    /// Read, open, comment on and close tickets, and check the ticket gate.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Stream accounts, entitlements or grants to a file.
    Import(ImportArgs),
    /// Create, change and delete accounts; grant and revoke entitlements.
    Provision(ProvisionArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  accesslink completions bash > /etc/bash_completion.d/accesslink"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a configuration file: parse it, resolve its secret references (never
    /// printing them) and list its instances. Sends no request.
    #[command(after_help = "Example:\n  accesslink config check /etc/accesslink/accesslink.toml")]
    Check {
        /// The file; the global --config when omitted.
        file: Option<PathBuf>,
    },
    /// Print the JSON Schema of a configuration file, or of one target's instance table.
    #[command(
        after_help = "Example:\n  accesslink config schema servicenow > servicenow.schema.json"
    )]
    Schema {
        /// The target (`servicenow`, `otrs`, …); the whole file when omitted.
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum MockCommand {
    /// Start mock servers and print their URL, credentials and a ready configuration;
    /// runs until Ctrl-C or SIGTERM, then prints how many requests each received.
    #[command(
        after_help = "Examples:\n  accesslink mock serve servicenow --port 8080 --users 1000\n  accesslink mock serve --all --port 9000"
    )]
    Serve(MockServeArgs),
    /// List the targets `mock serve` knows.
    #[command(after_help = "Example:\n  accesslink mock list --output json")]
    List,
}

#[derive(Debug, Args)]
pub(crate) struct MockServeArgs {
    /// The target to mock.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub(crate) target: Option<String>,
    /// Every enabled target, on consecutive ports from --port.
    #[arg(long)]
    pub(crate) all: bool,
    /// Listen on this loopback port (consecutive ports with --all); a free port when omitted.
    #[arg(long)]
    pub(crate) port: Option<u16>,
    /// Generated users, for the mocks that generate them.
    #[arg(long)]
    pub(crate) users: Option<usize>,
    /// Tickets to open at start, through the target's own connector (for targets with tickets).
    #[arg(long)]
    pub(crate) tickets: Option<usize>,
    /// Faults for the next requests, comma-separated: `503`, `429`, `html`, `malformed`,
    /// `truncated`, `empty` or `delay=2s`, each optionally `xN` for N requests (`503x3,html`).
    #[arg(long, value_name = "SPEC")]
    pub(crate) faults: Option<String>,
    /// Also write the configuration snippet to this file (the mocks' test credentials inline).
    #[arg(long, value_name = "FILE")]
    pub(crate) write_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TicketCommand {
    /// Print a ticket.
    #[command(after_help = "Example:\n  accesslink ticket get it-prod INC0010001")]
    Get {
        /// The instance.
        instance: String,
        /// The ticket id or number.
        id: String,
    },
    /// Open a ticket (idempotent on the correlation id).
    #[command(
        after_help = "Example:\n  accesslink ticket create it-prod --title 'Grant admin to alice' --correlation REQ-42"
    )]
    Create {
        /// The instance.
        instance: String,
        /// The title.
        #[arg(long)]
        title: String,
        /// The description.
        #[arg(long, default_value = "")]
        description: String,
        /// The kind (`incident`, `change`, `request`, …); the target's first kind when omitted.
        #[arg(long)]
        kind: Option<String>,
        /// The correlation id that makes creation idempotent; generated when omitted.
        #[arg(long)]
        correlation: Option<String>,
        /// The priority, in the target's terms.
        #[arg(long)]
        priority: Option<String>,
    },
    /// Add a comment to a ticket.
    #[command(
        after_help = "Example:\n  accesslink ticket comment it-prod INC0010001 'Access granted.'"
    )]
    Comment {
        /// The instance.
        instance: String,
        /// The ticket id or number.
        id: String,
        /// The comment.
        text: String,
        /// Internal (work note) instead of public.
        #[arg(long)]
        internal: bool,
    },
    /// Close a ticket.
    #[command(
        after_help = "Example:\n  accesslink ticket close it-prod INC0010001 --notes 'Done.'"
    )]
    Close {
        /// The instance.
        instance: String,
        /// The ticket id or number.
        id: String,
        /// Closing notes.
        #[arg(long, default_value = "Closed by accesslink.")]
        notes: String,
        /// Close as failed rather than done.
        #[arg(long)]
        failed: bool,
        /// A close code, in the target's terms.
        #[arg(long)]
        code: Option<String>,
    },
    /// List tickets, or poll for what changed since the last poll (`--cursor`).
    #[command(after_help = "\
Examples:
  accesslink ticket list it-prod --kind request --state new --state in_progress --since 2026-12-01T00:00:00Z
  accesslink ticket list it-prod --kind request --scope 'Access requests' --cursor feed.json

With --cursor, each run prints only the tickets that changed since the run that wrote
the file (a change feed: the server is asked for what changed, not for every ticket),
and the file is replaced once they are printed.")]
    List {
        /// The instance.
        instance: String,
        /// A kind to list (`incident`, `request`, …); repeat for several; all when omitted.
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// A normalised state to list (`new`, `in_progress`, `on_hold`, `resolved`,
        /// `closed`, `cancelled`, `reopened`); repeat for several; all when omitted.
        #[arg(long = "state")]
        states: Vec<String>,
        /// The target-native scope (a queue, a catalogue item, a project…; see the
        /// target's docs page).
        #[arg(long)]
        scope: Option<String>,
        /// Only tickets updated at or after this time (RFC 3339, `2026-12-01T00:00:00Z`).
        #[arg(long)]
        since: Option<String>,
        /// A change-feed cursor file: read (when it exists), polled from, and replaced.
        #[arg(long, value_name = "FILE", conflicts_with = "limit")]
        cursor: Option<PathBuf>,
        /// Print at most this many tickets.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print a ticket's comments, oldest first.
    #[command(after_help = "Example:\n  accesslink ticket comments it-prod INC0010001")]
    Comments {
        /// The instance.
        instance: String,
        /// The ticket id or number.
        id: String,
    },
    /// Print the fields tickets of a kind have (for building a field map).
    #[command(after_help = "Example:\n  accesslink ticket schema it-prod --kind request_item")]
    Schema {
        /// The instance.
        instance: String,
        /// The kind; the target's first kind when omitted.
        #[arg(long)]
        kind: Option<String>,
    },
    /// Check an access attempt against a ticket policy: exit 0 allow, 1 deny, 2 error.
    #[command(after_help = "\
Example:
  accesslink ticket validate it-prod CHG0030001 --policy policy.toml --principal alice --group prod

The policy file is the workflow's GatePolicies in TOML:
  [default]
  allowed_kinds = [\"change\"]
  requester_must_match = true
  [groups.prod]
  approval = \"always\"")]
    Validate {
        /// The instance.
        instance: String,
        /// The ticket id as the user typed it.
        id: String,
        /// The policy file (TOML: `[default]` and `[groups.<name>]` ticket policies).
        #[arg(long)]
        policy: PathBuf,
        /// Who asks for access; $USER when omitted.
        #[arg(long)]
        principal: Option<String>,
        /// The resource group, which picks the policy.
        #[arg(long)]
        group: Option<String>,
        /// The operation.
        #[arg(long, default_value = "connect")]
        operation: String,
        /// The resource accessed.
        #[arg(long, default_value = "")]
        resource: String,
        /// Invoke break-glass with this reason (the policy decides whether it is allowed).
        #[arg(long, value_name = "REASON")]
        break_glass: Option<String>,
    },
}

/// What to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportKind {
    /// Accounts.
    Accounts,
    /// Entitlements of one type.
    Entitlements,
    /// Grants of one entitlement type.
    Grants,
}

/// The file format of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line; nested values flattened.
    Csv,
    /// One JSON array.
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  accesslink import accounts it-prod --format jsonl --out accounts.jsonl
  accesslink import grants it-prod --type role --format csv --out grants.csv --resume
  accesslink import accounts it-prod --out a.jsonl --previous-count 10000 --max-drop 5

A checkpoint is saved beside the output (<out>.checkpoint) after every page; --resume
continues from it with no row lost or repeated. It is removed when the import completes.")]
pub(crate) struct ImportArgs {
    /// What to import.
    #[arg(value_enum)]
    pub(crate) kind: ImportKind,
    /// The instance.
    pub(crate) instance: String,
    /// The entitlement type (entitlements and grants); the target's first when omitted.
    #[arg(long = "type")]
    pub(crate) ty: Option<String>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = FileFormat::Jsonl)]
    pub(crate) format: FileFormat,
    /// The output file.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Continue from the checkpoint an interrupted run left beside the output.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Items per page requested (the target's default when omitted).
    #[arg(long)]
    pub(crate) page_size: Option<u32>,
    /// Fail unless at least this many rows arrive.
    #[arg(long)]
    pub(crate) min_rows: Option<u64>,
    /// The previous run's row count: fail when this run falls more than --max-drop below it.
    #[arg(long)]
    pub(crate) previous_count: Option<u64>,
    /// The largest drop from --previous-count accepted, in percent (default 0).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub(crate) max_drop: Option<u8>,
}

#[derive(Debug, Args)]
pub(crate) struct ProvisionArgs {
    /// Print the operation that would be sent, and send nothing.
    #[arg(long, global = true)]
    pub(crate) dry_run: bool,
    #[command(subcommand)]
    pub(crate) op: ProvisionOp,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProvisionOp {
    /// Create an account (idempotent: an existing login is reported, not duplicated).
    #[command(
        after_help = "Example:\n  accesslink provision create it-prod alice --email alice@example.com --first Alice --last Liddell"
    )]
    Create {
        /// The instance.
        instance: String,
        /// The login.
        login: String,
        /// The e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The first name.
        #[arg(long, requires = "last")]
        first: Option<String>,
        /// The last name.
        #[arg(long, requires = "first")]
        last: Option<String>,
        /// The display name.
        #[arg(long)]
        display_name: Option<String>,
        /// Create the account disabled.
        #[arg(long)]
        disabled: bool,
        /// The environment variable holding the account's initial password (never a
        /// password on the command line).
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// A target-specific attribute, `key=value` (a JSON value, or a string).
        #[arg(long = "attr", value_name = "KEY=VALUE")]
        attrs: Vec<String>,
    },
    /// Change an account's attributes.
    #[command(
        after_help = "Example:\n  accesslink provision update it-prod 6816f79c --email new@example.com"
    )]
    Update {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
        /// The e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The display name.
        #[arg(long)]
        display_name: Option<String>,
        /// A target-specific attribute, `key=value` (a JSON value, or a string).
        #[arg(long = "attr", value_name = "KEY=VALUE")]
        attrs: Vec<String>,
    },
    /// Enable an account.
    #[command(after_help = "Example:\n  accesslink provision enable it-prod 6816f79c")]
    Enable {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
    },
    /// Disable an account.
    #[command(after_help = "Example:\n  accesslink provision disable it-prod 6816f79c --dry-run")]
    Disable {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
    },
    /// Set an account's password, read from an environment variable.
    #[command(
        after_help = "Example:\n  NEW_PW=... accesslink provision set-password it-prod 6816f79c --password-env NEW_PW"
    )]
    SetPassword {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
        /// The environment variable holding the password.
        #[arg(long, value_name = "VAR")]
        password_env: String,
    },
    /// Print the fields accounts have (for building a field map).
    #[command(after_help = "Example:\n  accesslink provision schema it-prod")]
    Schema {
        /// The instance.
        instance: String,
    },
    /// Delete an account.
    #[command(after_help = "Example:\n  accesslink provision delete it-prod 6816f79c")]
    Delete {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
    },
    /// Grant an entitlement (idempotent).
    #[command(after_help = "Example:\n  accesslink provision grant it-prod 6816f79c role admin")]
    Grant {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
        /// The entitlement type (`role`, `group`, `team`, …).
        ty: String,
        /// The entitlement id.
        entitlement: String,
    },
    /// Revoke an entitlement (idempotent).
    #[command(
        after_help = "Example:\n  accesslink provision revoke it-prod 6816f79c group cab-approvers"
    )]
    Revoke {
        /// The instance.
        instance: String,
        /// The account id.
        id: String,
        /// The entitlement type.
        ty: String,
        /// The entitlement id.
        entitlement: String,
    },
}
