//! `spec.source` → [`Source`]: exactly one of a fixture folder and a URL,
//! a Git reference with Flux's precedence (`main` when nothing is given),
//! and a path that stays inside the repository.

use super::Cx;
use super::paths::clean_repo_path;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::{GitRef, Source, SourceLocation};

impl Cx<'_> {
    pub(super) fn source(&self, c: &mut Collector, s: &file::SourceSpec) -> Source {
        let location = self.location(c, s);
        if s.tag.is_some() && s.branch.is_some() {
            c.field_help(
                "spec.source.tag",
                "`tag` and `branch` are both set",
                "keep one (a commit may be combined with a branch)",
            );
        }
        if let Some(commit) = &s.commit
            && (!(7..=40).contains(&commit.len()) || !commit.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            c.field(
                "spec.source.commit",
                format!("{commit:?} is not a commit SHA: expected 7 to 40 hexadecimal digits"),
            );
        }
        let branch = match (&s.branch, &s.tag, &s.commit) {
            (Some(b), _, _) => Some(b.clone()),
            (None, None, None) => Some("main".to_owned()),
            _ => None,
        };
        let path = s
            .path
            .as_deref()
            .map(clean_repo_path)
            .unwrap_or_else(|| ".".into());
        if path.split('/').any(|p| p == "..") {
            c.field(
                "spec.source.path",
                format!("{path:?} leaves the repository ('..' is not allowed)"),
            );
        }
        Source {
            location,
            reference: GitRef {
                branch,
                tag: s.tag.clone(),
                commit: s.commit.clone(),
            },
            path,
        }
    }

    /// The fixture folder or the URL. When both or neither are given, an
    /// empty URL stands in so the other sections can still be checked.
    fn location(&self, c: &mut Collector, s: &file::SourceSpec) -> SourceLocation {
        match (&s.fixture, &s.url) {
            (Some(fixture), None) => {
                SourceLocation::Fixture(self.existing_dir(c, "spec.source.fixture", fixture))
            }
            (None, Some(url)) => {
                if url.trim().is_empty() {
                    c.field("spec.source.url", "is empty");
                }
                SourceLocation::Url(url.clone())
            }
            (Some(_), Some(_)) => {
                c.field_help(
                    "spec.source",
                    "has both `fixture` and `url`",
                    "keep one: `fixture` for a folder turned into a fresh repository, `url` for a real one",
                );
                SourceLocation::Url(String::new())
            }
            (None, None) => {
                c.field_help(
                    "spec.source",
                    "needs `fixture` (a folder) or `url` (a Git repository)",
                    "e.g. `fixture: ../fixtures/repos/podinfo`",
                );
                SourceLocation::Url(String::new())
            }
        }
    }
}
