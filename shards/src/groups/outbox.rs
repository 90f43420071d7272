//! Parked requests and their answers. Every parked token is answered through
//! [`Outbox::complete`] at most once, or forgotten when its connection goes away: the map of
//! parked tokens is what makes "exactly once" hold by construction.

use std::collections::HashMap;

use super::api::{Completion, JoinOutput, SyncOutput, Token};

/// Where a parked request waits, so `cancel` finds its member without a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ParkedRequest {
    pub group_id: String,
    pub member_id: String,
}

#[derive(Debug, Default)]
pub(super) struct Outbox {
    completions: Vec<(Token, Completion)>,
    parked: HashMap<Token, ParkedRequest>,
}

impl Outbox {
    pub fn is_parked(&self, token: Token) -> bool {
        self.parked.contains_key(&token)
    }

    pub fn park(&mut self, token: Token, group_id: &str, member_id: &str) {
        let previous = self.parked.insert(
            token,
            ParkedRequest {
                group_id: group_id.to_string(),
                member_id: member_id.to_string(),
            },
        );
        debug_assert!(previous.is_none(), "token {token} parked twice");
    }

    /// Answers a parked request; a token that is no longer parked (cancelled) is dropped.
    pub fn complete(&mut self, token: Token, completion: Completion) {
        if self.parked.remove(&token).is_some() {
            self.completions.push((token, completion));
        }
    }

    /// Forgets a parked request without answering it.
    pub fn forget(&mut self, token: Token) -> Option<ParkedRequest> {
        self.parked.remove(&token)
    }

    pub fn take_completions(&mut self) -> Vec<(Token, Completion)> {
        std::mem::take(&mut self.completions)
    }

    /// The answer to `token` if the request was completed during the call that parked it, so
    /// the caller returns it directly instead of through `take_completions`.
    pub fn take_join(&mut self, token: Token) -> Option<JoinOutput> {
        let index = self.completions.iter().position(|(t, _)| *t == token)?;
        match self.completions.remove(index) {
            (_, Completion::Join(output)) => Some(output),
            other => {
                self.completions.insert(index, other);
                None
            }
        }
    }

    pub fn take_sync(&mut self, token: Token) -> Option<SyncOutput> {
        let index = self.completions.iter().position(|(t, _)| *t == token)?;
        match self.completions.remove(index) {
            (_, Completion::Sync(output)) => Some(output),
            other => {
                self.completions.insert(index, other);
                None
            }
        }
    }

    #[cfg(test)]
    pub fn parked(&self) -> &HashMap<Token, ParkedRequest> {
        &self.parked
    }
}
