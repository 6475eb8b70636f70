//! Host names to addresses, with the resolver's answer kept apart: a name the resolver says
//! does not exist (NXDOMAIN, `EAI_NONAME`) is [`NoSuchHost`], which no retry will change; a
//! temporary failure (`EAI_AGAIN`) stays an ordinary error, retried. Tests inject answers with
//! `POOLFORM_TEST_RESOLVE=host=nxdomain,other=again` (it can only make a name fail, never
//! point it elsewhere), so that no test resolves a real host name.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::sync::Arc;

/// The resolver says this host does not exist.
#[derive(Debug, thiserror::Error)]
#[error("no such host {0} (the resolver says the name does not exist)")]
pub struct NoSuchHost(pub String);

/// An answer a test injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Injected {
    NoSuchHost,
    TryAgain,
}

/// The system's resolver (`getaddrinfo`, through tokio), its "no such name" answers typed.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    injected: Arc<HashMap<String, Injected>>,
}

impl Resolver {
    /// The resolver, with the answers `POOLFORM_TEST_RESOLVE` injects.
    pub fn from_env() -> Resolver {
        let mut injected = HashMap::new();
        if let Ok(text) = std::env::var("POOLFORM_TEST_RESOLVE") {
            for item in text.split(',') {
                match item.split_once('=') {
                    Some((host, "nxdomain")) => {
                        injected.insert(host.trim().to_ascii_lowercase(), Injected::NoSuchHost);
                    }
                    Some((host, "again")) => {
                        injected.insert(host.trim().to_ascii_lowercase(), Injected::TryAgain);
                    }
                    _ => {}
                }
            }
        }
        Resolver {
            injected: Arc::new(injected),
        }
    }
}

/// Does this resolver error say the name does not exist (rather than "try again")?
fn says_no_such_name(e: &std::io::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    [
        "name or service not known",
        "no address associated with hostname",
        "nodename nor servname provided",
        "no such host is known",
    ]
    .iter()
    .any(|m| text.contains(m))
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let injected = self.injected.get(&host).copied();
        Box::pin(async move {
            match injected {
                Some(Injected::NoSuchHost) => return Err(Box::new(NoSuchHost(host)) as _),
                Some(Injected::TryAgain) => return Err(Box::new(std::io::Error::other(
                    "failed to lookup address information: Temporary failure in name resolution",
                )) as _),
                None => {}
            }
            let looked_up = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|addrs| addrs.collect::<Vec<std::net::SocketAddr>>());
            match looked_up {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                Err(e) if says_no_such_name(&e) => Err(Box::new(NoSuchHost(host)) as _),
                Err(e) => Err(Box::new(e) as _),
            }
        })
    }
}

/// Does `error` (or what caused it) say the host does not exist?
pub fn is_no_such_host(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<NoSuchHost>().is_some() {
            return true;
        }
        source = e.source();
    }
    false
}
