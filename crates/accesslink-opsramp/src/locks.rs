//! One role change at a time per user, within a connector and its clones.
//!
//! A role grant or revoke reads the user and writes its COMPLETE role list (fact sheet
//! §1.7: replace-vs-merge is undocumented). Two such changes on one user at the same
//! time would each write the list they read, and the later write would silently undo
//! the earlier one; so they queue per user here. Changes on different users still run
//! in parallel. Other processes changing the same user are not covered.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// The per-user queues; entries live only while someone holds or awaits them.
#[derive(Default)]
pub(crate) struct UserLocks {
    queues: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl fmt::Debug for UserLocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("UserLocks").field("held", &n).finish()
    }
}

/// Held while one user's roles change.
pub(crate) struct UserGuard<'a> {
    locks: &'a UserLocks,
    user: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl UserLocks {
    /// Waits until no other role change of `user` runs.
    pub(crate) async fn lock(&self, user: &str) -> UserGuard<'_> {
        let queue = self
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(user.to_owned())
            .or_default()
            .clone();
        UserGuard {
            locks: self,
            user: user.to_owned(),
            guard: Some(queue.lock_owned().await),
        }
    }
}

impl Drop for UserGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut queues = self
            .locks
            .queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only the map holds it: nobody waits, so the entry can go.
        if queues
            .get(&self.user)
            .is_some_and(|q| Arc::strong_count(q) == 1)
        {
            queues.remove(&self.user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_user_queues_others_do_not_and_entries_go() {
        let locks = UserLocks::default();
        let a = locks.lock("USR1").await;
        // Another user is not held up.
        drop(locks.lock("USR2").await);
        let waiting = locks.lock("USR1");
        tokio::pin!(waiting);
        assert!(
            futures::poll!(waiting.as_mut()).is_pending(),
            "the same user waits"
        );
        drop(a);
        drop(waiting.await);
        assert!(locks.queues.lock().unwrap().is_empty(), "no entry left");
    }
}
