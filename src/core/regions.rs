//! The regions where Huawei Cloud serves Workspace (the Workspace SDK's region table), for a
//! "did you mean" on a mistyped region and a warning (never a refusal: new regions appear) on
//! an unknown one.

/// Regions with Workspace, from huaweicloudsdkworkspace 3.1.x's region table.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-north-1",
    "af-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "cn-east-3",
    "cn-east-5",
    "cn-north-4",
    "cn-north-9",
    "cn-north-11",
    "cn-south-1",
    "cn-southwest-2",
    "eu-west-101",
    "la-north-2",
    "la-south-2",
    "me-east-1",
    "sa-brazil-1",
    "tr-west-1",
];

/// Whether Workspace is known to be served in `region`.
pub fn is_known(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

/// The known region an unknown `region` is most likely a misspelling of (at most two edits
/// away).
pub fn did_you_mean(region: &str) -> Option<&'static str> {
    if is_known(region) {
        return None;
    }
    crate::core::names::closest(region, KNOWN_REGIONS.iter().copied(), 2)
}

/// A warning for a region Workspace is not known in, with the likely intended one; none for a
/// known region.
pub fn unknown_region_warning(region: &str, from: &str) -> Option<String> {
    if is_known(region) {
        return None;
    }
    let guess = did_you_mean(region).map_or_else(
        || format!(" (known regions: {})", KNOWN_REGIONS.join(", ")),
        |g| format!(" (did you mean {g}?)"),
    );
    Some(format!(
        "warning: region {region} ({from}) is not one where Workspace is known to be served{guess}; continuing, as new regions appear"
    ))
}

/// What to check when a region's host does not resolve.
pub fn unresolved_host_hint(region: Option<&str>) -> String {
    match region.and_then(did_you_mean) {
        Some(g) => format!("the host does not resolve: check the region's spelling (did you mean {g}?)"),
        None => format!(
            "the host does not resolve: check the region's spelling against the known regions ({}) and the network's DNS",
            KNOWN_REGIONS.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_regions_get_the_likely_one() {
        let cases = [
            ("cn-nort-4", Some("cn-north-4")),
            ("cn-north-40", Some("cn-north-4")),
            ("ap-southeast-9", Some("ap-southeast-1")),
            ("cn-north-4", None),
            ("xx-nowhere-7", None),
        ];
        for (typed, want) in cases {
            assert_eq!(did_you_mean(typed), want, "{typed}");
        }
        assert!(unknown_region_warning("cn-north-4", "--region").is_none());
        let w = unknown_region_warning("cn-nort-4", "--region").unwrap();
        assert!(w.contains("did you mean cn-north-4?"), "{w}");
        assert!(unresolved_host_hint(Some("cn-nort-4")).contains("did you mean cn-north-4?"));
    }
}
