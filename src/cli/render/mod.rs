//! Plans and apply reports as text: human (optionally coloured, laid out for the terminal's
//! width), JSON and markdown. Pure: takes values, returns strings; the same input always gives
//! the same output. Every string that came from the API, the config or a plan file is escaped
//! (`escape`): control and format characters shown visibly in human text, markdown structure
//! and HTML escaped in markdown; JSON stays exact (serde escapes what JSON must).

mod entries;
mod layout;
mod markdown;
mod plan;
mod report;
mod sections;
mod view;

pub use layout::fit;
pub use plan::{finding_detail, partial_notice, plan, stale_diff};
pub use report::{drop_reason, dropped_pool, lost_report, report_human, report_markdown};
pub use view::{plural, Format, Style, View};
