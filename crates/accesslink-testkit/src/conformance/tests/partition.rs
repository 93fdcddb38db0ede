//! The partition checks against an in-memory connector that splits its account
//! listing by text key ranges: the faithful one passes them, and each broken variant
//! fails the check that guards its contract.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use accesslink_core::partition::{KeyRange, Listing, Partition, Partitioner};

use super::*;

/// Ways to break the splitting connector, one contract each.
#[derive(Debug, Clone, Copy, Default)]
struct SplitFaults {
    /// Reads a range's lower bound as exclusive (`>` for `>=`): the row at each cut
    /// is in no partition.
    exclusive_lower: bool,
    /// Plans the first of 3 ranges up to the end of the second, so they share rows.
    overlapping: bool,
    /// Page tokens are single-use server cursors (opaque, never the same twice), and a
    /// used one silently restarts its range from the start (where it should fail).
    single_use_tokens: bool,
    /// Drops the rows outside the range asked for instead of passing them on, so a
    /// server that ignores the range goes unnoticed (and is read once per partition).
    filters_client_side: bool,
    /// Plans ranges without bounds, each holding every key.
    unbounded: bool,
}

/// Rows on the server: `a000` … `a059`.
const ROWS: usize = 60;
/// The page size the checks run with.
const PAGE: u32 = 4;

/// A server of `ROWS` accounts with text ids and the connector that splits them.
struct Split {
    info: ConnectorInfo,
    faults: SplitFaults,
    ids: Vec<String>,
    /// The server ignores the key ranges of listings.
    ignoring: AtomicBool,
    /// Whether the backend can make it ([`AccountBackend::ignore_key_ranges`]).
    can_ignore: bool,
    /// Cursors issued and not used yet, each with the last id before it
    /// (`single_use_tokens`).
    issued: Mutex<HashMap<String, String>>,
    requests: AtomicUsize,
}

impl fmt::Debug for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Split")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

impl Split {
    fn new(faults: SplitFaults) -> Self {
        Split {
            info: ConnectorInfo::new("split", "test").with([Capability::ListAccounts]),
            faults,
            ids: (0..ROWS).map(|i| format!("a{i:03}")).collect(),
            ignoring: AtomicBool::new(false),
            can_ignore: true,
            issued: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
        }
    }

    fn faithful() -> Self {
        Split::new(SplitFaults::default())
    }

    fn ignoring(&self) -> bool {
        self.ignoring.load(Ordering::SeqCst)
    }

    /// Whether the server lists `id` for `range` (as the connector asks for it).
    fn in_range(&self, range: &KeyRange, id: &str) -> bool {
        match range {
            KeyRange::Text { from: Some(f), .. } if self.faults.exclusive_lower && id == f => false,
            r => r.contains(id),
        }
    }

    fn unsupported<T>(operation: &'static str) -> Result<T> {
        Err(Error::Unsupported {
            operation,
            target: "split",
        })
    }
}

#[async_trait]
impl Connector for Split {
    fn info(&self) -> &ConnectorInfo {
        &self.info
    }

    async fn test_connection(&self) -> Result<ConnectionReport> {
        Ok(ConnectionReport::new(Duration::ZERO))
    }

    fn as_provisioner(&self) -> Option<&dyn Provisioner> {
        Some(self)
    }

    fn as_partitioner(&self) -> Option<&dyn Partitioner> {
        Some(self)
    }
}

#[async_trait]
impl Provisioner for Split {
    fn entitlement_types(&self) -> &[EntitlementType] {
        &[]
    }

    /// Keyset by id: the token is the last id of the previous page.
    async fn list_accounts(&self, page: PageRequest) -> Result<Page<Account>> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let range = page.key_range().clone();
        let after = match &page.token {
            None => None,
            Some(t) if self.faults.single_use_tokens => {
                self.issued.lock().unwrap().remove(t.as_str())
            }
            Some(t) => Some(t.as_str().to_owned()),
        };
        let ignoring = self.ignoring();
        let rows: Vec<&String> = self
            .ids
            .iter()
            .filter(|id| ignoring || self.in_range(&range, id))
            .filter(|id| after.as_deref().is_none_or(|a| id.as_str() > a))
            .filter(|id| !self.faults.filters_client_side || range.contains(id))
            .collect();
        let size = page.size_or(PAGE) as usize;
        let items: Vec<Account> = rows
            .iter()
            .take(size)
            .map(|id| Account::new(id.as_str(), format!("login-{id}")))
            .collect();
        let mut next = (rows.len() > size).then(|| rows[size - 1].clone());
        if let (Some(last), true) = (&next, self.faults.single_use_tokens) {
            let cursor = format!("cursor-{}", self.requests_seen());
            self.issued
                .lock()
                .unwrap()
                .insert(cursor.clone(), last.clone());
            next = Some(cursor);
        }
        Ok(Page::new(items, next.map(PageToken::new)))
    }

    async fn get_account(&self, _: &AccountId) -> Result<Option<Account>> {
        Split::unsupported("get_account")
    }

    async fn list_entitlements(
        &self,
        _: &EntitlementType,
        _: PageRequest,
    ) -> Result<Page<Entitlement>> {
        Split::unsupported("list_entitlements")
    }

    async fn list_grants(&self, _: &EntitlementType, _: PageRequest) -> Result<Page<Grant>> {
        Split::unsupported("list_grants")
    }

    async fn create_account(&self, _: &AccountSpec) -> Result<CreateOutcome> {
        Split::unsupported("create_account")
    }

    async fn update_account(&self, _: &AccountId, _: &AccountChange) -> Result<Account> {
        Split::unsupported("update_account")
    }

    async fn set_enabled(&self, _: &AccountId, _: bool) -> Result<()> {
        Split::unsupported("set_enabled")
    }

    async fn delete_account(&self, _: &AccountId) -> Result<()> {
        Split::unsupported("delete_account")
    }

    async fn grant(&self, _: &AccountId, _: &EntitlementRef) -> Result<GrantOutcome> {
        Split::unsupported("grant")
    }

    async fn revoke(&self, _: &AccountId, _: &EntitlementRef) -> Result<RevokeOutcome> {
        Split::unsupported("revoke")
    }
}

#[async_trait]
impl Partitioner for Split {
    fn splits(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    fn keyset(&self, listing: &Listing) -> bool {
        *listing == Listing::Accounts
    }

    /// Three partitions are uneven on purpose: the middle one (`a025`..`a029`) is done
    /// long before the others. Other counts cut at quantiles.
    async fn partitions(&self, listing: &Listing, n: u32) -> Result<Vec<Partition>> {
        if *listing != Listing::Accounts || n <= 1 {
            return Ok(Partition::whole(listing));
        }
        let text = |from: Option<&str>, to: Option<&str>| KeyRange::Text {
            from: from.map(Into::into),
            to: to.map(Into::into),
        };
        let ranges = if self.faults.unbounded {
            vec![text(None, None); n as usize]
        } else if n == 3 {
            let first_to = if self.faults.overlapping {
                "a030"
            } else {
                "a025"
            };
            vec![
                text(None, Some(first_to)),
                text(Some("a025"), Some("a030")),
                text(Some("a030"), None),
            ]
        } else {
            let n = n as usize;
            KeyRange::split_text((1..n).map(|i| self.ids[i * ROWS / n].clone()))
        };
        Ok(Partition::plan(listing, ranges))
    }
}

#[async_trait]
impl AccountBackend for Split {
    async fn account_count(&self) -> Result<usize> {
        Ok(self.ids.len())
    }

    async fn account_ids(&self) -> Result<Option<Vec<String>>> {
        Ok(Some(self.ids.clone()))
    }

    async fn holds(&self, _: &AccountId, _: &EntitlementRef) -> Result<bool> {
        Ok(false)
    }

    fn requests_seen(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn ignore_key_ranges(&self, on: bool) -> bool {
        if self.can_ignore {
            self.ignoring.store(on, Ordering::SeqCst);
        }
        self.can_ignore
    }
}

/// The backend of a [`Split`] that can count its accounts but not list their ids.
struct CountOnly<'a>(&'a Split);

#[async_trait]
impl AccountBackend for CountOnly<'_> {
    async fn account_count(&self) -> Result<usize> {
        self.0.account_count().await
    }

    async fn holds(&self, _: &AccountId, _: &EntitlementRef) -> Result<bool> {
        Ok(false)
    }

    fn requests_seen(&self) -> usize {
        self.0.requests_seen()
    }
}

fn split_suite() -> ProvisioningSuite {
    ProvisioningSuite::new(PAGE, AccountSpec::new(fresh_id("split")), role("admin"))
}

const PARTITION_CHECKS: [Check; 3] = [
    Check::PartitionedAccountsExactlyOnce,
    Check::PartitionedResumeLosesNothing,
    Check::IgnoredRangeIsAProtocolError,
];

#[tokio::test]
async fn a_faithful_splitting_connector_passes_the_partition_checks() {
    let s = Split::faithful();
    partitioned_accounts_exactly_once(&s, &s, PAGE)
        .await
        .unwrap();
    partitioned_resume_loses_nothing(&s, &s, PAGE)
        .await
        .unwrap();
    ignored_range_is_a_protocol_error(&s, &s, PAGE)
        .await
        .unwrap();
    assert!(!s.ignoring(), "the ranges are restored");
    // Through the suite: the three run (not skipped) and pass.
    let report = run_provisioning_suite(&s, &s, &split_suite()).await;
    report.assert_success();
    let passed: Vec<Check> = report.passed().collect();
    for check in PARTITION_CHECKS {
        assert!(passed.contains(&check), "{check} did not run: {report}");
    }
    assert!(!s.ignoring(), "the ranges are restored");
}

#[tokio::test]
async fn a_lower_bound_read_as_exclusive_loses_the_rows_at_the_cuts() {
    let s = Split::new(SplitFaults {
        exclusive_lower: true,
        ..SplitFaults::default()
    });
    let f = failed(
        partitioned_accounts_exactly_once(&s, &s, PAGE).await,
        Check::PartitionedAccountsExactlyOnce,
    );
    // One partition has no cut: the loss shows with three, at the cuts a025 and a030.
    assert!(f.step.contains("over 3 partition(s)"), "{f}");
    assert!(f.found.contains("58 accounts"), "{f}");
    assert!(f.found.contains("a025") && f.found.contains("a030"), "{f}");
    let f = failed(
        partitioned_resume_loses_nothing(&s, &s, PAGE).await,
        Check::PartitionedResumeLosesNothing,
    );
    assert_eq!(f.step, "both runs together", "{f}");
    assert!(f.found.contains("a025"), "{f}");
}

#[tokio::test]
async fn without_the_backends_ids_a_lost_row_shows_in_the_count() {
    let s = Split::new(SplitFaults {
        exclusive_lower: true,
        ..SplitFaults::default()
    });
    let f = failed(
        partitioned_accounts_exactly_once(&s, &CountOnly(&s), PAGE).await,
        Check::PartitionedAccountsExactlyOnce,
    );
    assert_eq!(f.expected, "60 accounts (the backend's count)", "{f}");
    assert_eq!(f.found, "58", "{f}");
    let s = Split::faithful();
    partitioned_accounts_exactly_once(&s, &CountOnly(&s), PAGE)
        .await
        .unwrap();
    partitioned_resume_loses_nothing(&s, &CountOnly(&s), PAGE)
        .await
        .unwrap();
}

#[tokio::test]
async fn overlapping_ranges_repeat_rows_and_read_a_done_partition_again() {
    let s = Split::new(SplitFaults {
        overlapping: true,
        ..SplitFaults::default()
    });
    let f = failed(
        partitioned_accounts_exactly_once(&s, &s, PAGE).await,
        Check::PartitionedAccountsExactlyOnce,
    );
    assert_eq!(f.expected, "no account twice", "{f}");
    assert!(f.found.starts_with("5 yielded twice"), "{f}");
    // The middle partition is done at the checkpoint; the first one, resumed, lists
    // its rows again.
    let f = failed(
        partitioned_resume_loses_nothing(&s, &s, PAGE).await,
        Check::PartitionedResumeLosesNothing,
    );
    assert_eq!(
        f.expected, "no account of a partition the checkpoint marks done",
        "{f}"
    );
    assert!(f.found.contains("a025"), "{f}");
}

#[tokio::test]
async fn a_resume_that_restarts_its_partitions_exceeds_the_pages_in_flight() {
    let s = Split::new(SplitFaults {
        single_use_tokens: true,
        ..SplitFaults::default()
    });
    // Read straight through, every token is used once: nothing to see.
    partitioned_accounts_exactly_once(&s, &s, PAGE)
        .await
        .unwrap();
    let f = failed(
        partitioned_resume_loses_nothing(&s, &s, PAGE).await,
        Check::PartitionedResumeLosesNothing,
    );
    assert!(
        f.expected.starts_with("at most 12 accounts of both runs"),
        "{f}"
    );
    assert!(f.found.ends_with("the resume started over"), "{f}");
}

#[tokio::test]
async fn a_range_the_server_ignored_must_end_the_import() {
    // Filtering on the client hides the server's fault: the import ends quietly.
    let s = Split::new(SplitFaults {
        filters_client_side: true,
        ..SplitFaults::default()
    });
    partitioned_accounts_exactly_once(&s, &s, PAGE)
        .await
        .unwrap();
    let f = failed(
        ignored_range_is_a_protocol_error(&s, &s, PAGE).await,
        Check::IgnoredRangeIsAProtocolError,
    );
    assert_eq!(f.expected, "an error of kind `protocol error`", "{f}");
    assert_eq!(f.found, "the import ended after 60 accounts", "{f}");
    assert!(!s.ignoring(), "the ranges are restored after a failure too");

    // Ranges that hold every key: each partition lists every row, and nothing can
    // tell a range was ignored.
    let s = Split::new(SplitFaults {
        unbounded: true,
        ..SplitFaults::default()
    });
    let f = failed(
        ignored_range_is_a_protocol_error(&s, &s, PAGE).await,
        Check::IgnoredRangeIsAProtocolError,
    );
    assert_eq!(f.expected, "no account twice before the error", "{f}");
    assert!(!s.ignoring());
}

#[tokio::test]
async fn partition_checks_are_skipped_with_the_reason() {
    // A backend that cannot ignore ranges skips that one check.
    let mut s = Split::faithful();
    s.can_ignore = false;
    let report = run_provisioning_suite(&s, &s, &split_suite()).await;
    report.assert_success();
    assert!(matches!(
        report.outcome(Check::IgnoredRangeIsAProtocolError),
        Some(Outcome::Skipped(why)) if why == "the backend cannot ignore key ranges"
    ));
    assert!(matches!(
        report.outcome(Check::PartitionedAccountsExactlyOnce),
        Some(Outcome::Passed)
    ));
    // An explicit skip wins, and its reason is shown.
    let suite = split_suite().skip(Check::PartitionedResumeLosesNothing, "not today");
    let report = run_provisioning_suite(&s, &s, &suite).await;
    assert!(matches!(
        report.outcome(Check::PartitionedResumeLosesNothing),
        Some(Outcome::Skipped(why)) if why == "skipped by the suite: not today"
    ));
    // A connector that does not split its account listing skips all three.
    let m = Memory::new(Faults::default());
    let report = run_provisioning_suite(&m, &m, &provisioning_suite()).await;
    for check in PARTITION_CHECKS {
        assert!(
            matches!(
                report.outcome(check),
                Some(Outcome::Skipped(why)) if why == "the connector does not split account listings"
            ),
            "{check}: {report}"
        );
    }
}
