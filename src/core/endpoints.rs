//! The `--endpoint` values a run is given, parsed: one URL for every region, and `REGION=URL`
//! for one region each (a file with `projects:`); which one a project's region gets.

use crate::core::model::is_region_name;

/// One `--endpoint` value: for every region, or for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointFlag {
    All(String),
    Region { region: String, url: String },
}

impl EndpointFlag {
    /// `REGION=URL` when what stands before `=` is a region name and no scheme comes first;
    /// anything else is a URL (checked later, with its own hints).
    pub fn parse(value: &str) -> EndpointFlag {
        match value.split_once('=') {
            Some((region, url)) if !region.contains("://") && is_region_name(region) => {
                EndpointFlag::Region {
                    region: region.to_owned(),
                    url: url.to_owned(),
                }
            }
            _ => EndpointFlag::All(value.to_owned()),
        }
    }
}

/// The `--endpoint` values of a run: at most one for every region, at most one per region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints(Vec<EndpointFlag>);

/// `--endpoint` given more often than it may be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointsError {
    #[error("--endpoint URL is given {0} times; give it once (or REGION=URL once per region)")]
    AllTwice(usize),
    #[error("--endpoint {0}=URL is given twice; give each region once")]
    RegionTwice(String),
    #[error("--endpoint {region}={url} names a region's endpoint, which only a file with projects: uses; pass --endpoint {url}")]
    RegionForOne { region: String, url: String },
}

impl Endpoints {
    pub fn parse(values: &[String]) -> Result<Endpoints, EndpointsError> {
        let parsed: Vec<EndpointFlag> = values.iter().map(|e| EndpointFlag::parse(e)).collect();
        let all = parsed
            .iter()
            .filter(|e| matches!(e, EndpointFlag::All(_)))
            .count();
        if all > 1 {
            return Err(EndpointsError::AllTwice(all));
        }
        let mut seen = std::collections::HashSet::new();
        for e in &parsed {
            if let EndpointFlag::Region { region, .. } = e {
                if !seen.insert(region.clone()) {
                    return Err(EndpointsError::RegionTwice(region.clone()));
                }
            }
        }
        Ok(Endpoints(parsed))
    }

    /// The endpoint of a file of one project: `--endpoint URL`; `REGION=URL` is for files with
    /// `projects:`.
    pub fn single(&self) -> Result<Option<String>, EndpointsError> {
        let mut out = None;
        for e in &self.0 {
            match e {
                EndpointFlag::All(url) => out = Some(url.clone()),
                EndpointFlag::Region { region, url } => {
                    return Err(EndpointsError::RegionForOne {
                        region: region.clone(),
                        url: url.clone(),
                    })
                }
            }
        }
        Ok(out)
    }

    /// The endpoint for a project in `region`: its `REGION=URL`, else the one for every region.
    pub fn for_region(&self, region: &str) -> Option<String> {
        let own = self.0.iter().find_map(|e| match e {
            EndpointFlag::Region { region: r, url } if r == region => Some(url.clone()),
            _ => None,
        });
        own.or_else(|| {
            self.0.iter().find_map(|e| match e {
                EndpointFlag::All(url) => Some(url.clone()),
                EndpointFlag::Region { .. } => None,
            })
        })
    }

    /// The `REGION=URL` values, `(region, url)`.
    pub fn by_region(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.iter().filter_map(|e| match e {
            EndpointFlag::Region { region, url } => Some((region.as_str(), url.as_str())),
            EndpointFlag::All(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_for_every_region_and_for_one() {
        let of =
            |v: &[&str]| Endpoints::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let e = of(&["http://127.0.0.1:9", "eu-west-101=http://127.0.0.1:10"]).unwrap();
        assert_eq!(
            e.for_region("eu-west-101").as_deref(),
            Some("http://127.0.0.1:10")
        );
        assert_eq!(
            e.for_region("cn-north-4").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(
            e.by_region().collect::<Vec<_>>(),
            [("eu-west-101", "http://127.0.0.1:10")]
        );
        assert!(matches!(
            e.single(),
            Err(EndpointsError::RegionForOne { .. })
        ));
        assert_eq!(
            of(&["http://x=y"]).unwrap().single().unwrap().as_deref(),
            Some("http://x=y"),
            "a URL holding = is a URL"
        );
        assert_eq!(of(&["a", "b"]).unwrap_err(), EndpointsError::AllTwice(2));
        assert_eq!(
            of(&["cn-north-4=a", "cn-north-4=b"]).unwrap_err(),
            EndpointsError::RegionTwice("cn-north-4".into())
        );
        assert_eq!(Endpoints::default().for_region("cn-north-4"), None);
    }
}
