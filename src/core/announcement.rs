//! Announcements: what a plan posted a notice period ahead of its deletes records (when it
//! was announced, from when and until when it may be applied), and whether it is due at an
//! instant of the API's clock. A plain value; no I/O.

use crate::core::time::{Clock, Instant, Span};
use serde::{Deserialize, Serialize};

/// What a plan made with `plan --notice` records: when it was announced and from when (and
/// until when) it may be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Announcement {
    /// The notice period.
    pub notice: Span,
    /// When it was announced, by the API's clock (the latest of its projects' listings).
    pub announced_at: Instant,
    /// `announced_at` + `notice`: no pool of it is deleted before.
    pub not_before: Instant,
    /// `not_before` + `notice`: after it, the announcement is stale and refused ("announce
    /// again").
    pub valid_until: Instant,
}

/// Whether an announcement may be applied at an instant of the API's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Before `not_before`: nothing is deleted yet; it is due in `wait`.
    Early {
        wait: Span,
    },
    Due,
    /// After `valid_until`: too old to act on.
    Lapsed {
        late: Span,
    },
}

impl Announcement {
    /// Announced at `announced_at` (the API's clock), with `notice`.
    pub fn new(notice: Span, announced_at: Instant) -> Announcement {
        let not_before = announced_at.plus(notice);
        Announcement {
            notice,
            announced_at,
            not_before,
            valid_until: not_before.plus(notice),
        }
    }

    /// Announced now, in projects listed at `clocks`: at the latest, so that no project's
    /// notice is shorter than announced. `None` when a project has no clock.
    pub fn of_clocks(
        notice: Span,
        clocks: impl IntoIterator<Item = Option<Clock>>,
    ) -> Option<Announcement> {
        let mut latest: Option<Instant> = None;
        for clock in clocks {
            let now = clock?.now;
            latest = Some(latest.map_or(now, |l| l.max(now)));
        }
        latest.map(|at| Announcement::new(notice, at))
    }

    /// Everything it says twice agrees (with itself and with its projects' `clocks`).
    pub fn check(&self, clocks: impl IntoIterator<Item = Option<Clock>>) -> Result<(), String> {
        if self.notice == Span::ZERO {
            return Err("its notice is 0s".into());
        }
        let Some(fresh) = Announcement::of_clocks(self.notice, clocks) else {
            return Err("it is an announcement but a project records no clock".into());
        };
        if fresh != *self {
            return Err(format!(
                "its announcement (announced {}, not before {}, valid until {}) does not follow from its notice {} and its projects' clocks",
                self.announced_at, self.not_before, self.valid_until, self.notice
            ));
        }
        Ok(())
    }

    /// Whether it may be applied at `now` (the API's clock): from `not_before` to
    /// `valid_until`, both included.
    pub fn due(&self, now: Instant) -> Due {
        if now < self.not_before {
            Due::Early {
                wait: now.until(self.not_before),
            }
        } else if now > self.valid_until {
            Due::Lapsed {
                late: self.valid_until.until(now),
            }
        } else {
            Due::Due
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap()
    }

    #[test]
    fn due_from_not_before_to_one_notice_later_both_included() {
        let a = Announcement::new(Span::parse("4d").unwrap(), at("2026-12-07T09:00:00Z"));
        assert_eq!(a.not_before, at("2026-12-11T09:00:00Z"));
        assert_eq!(a.valid_until, at("2026-12-15T09:00:00Z"));
        let cases = [
            (
                "2026-12-11T08:59:59Z",
                Due::Early {
                    wait: Span::from_secs(1),
                },
            ),
            ("2026-12-11T09:00:00Z", Due::Due),
            ("2026-12-15T09:00:00Z", Due::Due),
            (
                "2026-12-15T09:00:01Z",
                Due::Lapsed {
                    late: Span::from_secs(1),
                },
            ),
            (
                "2026-12-07T09:00:00Z",
                Due::Early {
                    wait: Span::from_secs(4 * 86_400),
                },
            ),
        ];
        for (now, want) in cases {
            assert_eq!(a.due(at(now)), want, "{now}");
        }
    }

    #[test]
    fn an_announcement_that_does_not_follow_from_its_notice_is_refused() {
        let a = Announcement::new(Span::parse("4d").unwrap(), at("2026-12-07T09:00:00Z"));
        let mut forged = a;
        forged.not_before = at("2026-12-07T09:00:00Z");
        assert!(forged.check([]).is_err());
        let mut zero = a;
        zero.notice = Span::ZERO;
        assert_eq!(zero.check([]).unwrap_err(), "its notice is 0s");
    }
}
