//! The listing a judgement is made from: every live pool, read consistently, and, when the
//! config has tag rules, the tags of each would-be delete that the listing left out, read from
//! the pool itself. A pool whose tags cannot be known fails the whole listing: a tag rule is
//! never judged on tags assumed empty.

use crate::api::{ApiError, Client, ListFilter, Shown};
use crate::core::model::{Live, PoolId};
use crate::core::planner::{self, PlanError};
use crate::core::rules::Rules;

/// The most pools whose tags are read one by one (their listing entry had none).
pub const MAX_TAG_READS: usize = 10_000;
/// Reads of single pools in flight at once.
pub const READS_AT_ONCE: usize = 8;

/// Why no judgement can be made from the listing.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("cannot list the live pools: {0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("the listing gave no tags for {count} pools that would be deleted, and {source_name} has tag rules; reading each of them (more than {MAX_TAG_READS}) is refused")]
    TooManyTagReads { count: usize, source_name: String },
    #[error("pool {id} would be deleted, but the listing gave no tags for it and {why}; {source_name} has tag rules, so its fate cannot be decided")]
    TagsUnknowable {
        id: PoolId,
        why: String,
        source_name: String,
    },
}

impl ListingError {
    /// The API error underneath, if one is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ListingError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// Every live pool, with the tags a judgement by `rules` needs (`source` names the config).
pub async fn list_for_judging(
    client: &Client,
    rules: &Rules,
    source: &str,
) -> Result<Live, ListingError> {
    let mut live = client.list_pools(&ListFilter::default()).await?;
    read_missing_tags(client, rules, source, &mut live).await?;
    Ok(live)
}

/// Fills in the tags of the would-be deletes the listing gave none for, by reading each.
async fn read_missing_tags(
    client: &Client,
    rules: &Rules,
    source: &str,
    live: &mut Live,
) -> Result<(), ListingError> {
    let ids = planner::pools_needing_tags(rules, live)?;
    if ids.is_empty() {
        return Ok(());
    }
    if ids.len() > MAX_TAG_READS {
        return Err(ListingError::TooManyTagReads {
            count: ids.len(),
            source_name: source.to_owned(),
        });
    }
    tracing::info!(pools = ids.len(), "reading the tags the listing left out");
    for (id, shown) in client.show_pools(ids, READS_AT_ONCE).await? {
        let why = match shown {
            Ok(Shown {
                pool: Some(pool), ..
            }) if !pool.tags_unknown => {
                live.set_tags(&id, pool.tags);
                continue;
            }
            Ok(Shown { pool: Some(_), .. }) => "a read of the pool gave none either".to_owned(),
            Ok(Shown { pool: None, .. }) => "a read finds no such pool".to_owned(),
            Err(e) => format!("a read of the pool failed: {e}"),
        };
        return Err(ListingError::TagsUnknowable {
            id,
            why,
            source_name: source.to_owned(),
        });
    }
    Ok(())
}
