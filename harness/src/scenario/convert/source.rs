//! `spec.source` → [`Source`]: exactly one of a fixture folder, a URL and
//! an OCI artifact; a Git reference with Flux's precedence (`main` when
//! nothing is given), or for an artifact a tag or semver range (`latest`
//! when neither is given, as in Flux); and a path that stays inside the
//! repository.

use super::Cx;
use super::paths::clean_repo_path;
use crate::gitops::oci::artifact::ArtifactRef;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::{GitRef, Source, SourceLocation};

impl Cx<'_> {
    pub(super) fn source(&self, c: &mut Collector, s: &file::SourceSpec) -> Source {
        let location = self.location(c, s);
        if location.is_oci() {
            for (field, value) in [
                ("branch", &s.branch),
                ("tag", &s.tag),
                ("commit", &s.commit),
            ] {
                if value.is_some() {
                    c.field_help(
                        format!("spec.source.{field}"),
                        "is a Git reference, but the source is an OCI artifact (`oci`)",
                        "follow a tag or a semver range with `oci.tag` or `oci.semver`",
                    );
                }
            }
        }
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
            _ if location.is_oci() => None,
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

    /// The fixture folder, the URL or the artifact. When several or none
    /// are given, an empty URL stands in so the other sections can still
    /// be checked.
    fn location(&self, c: &mut Collector, s: &file::SourceSpec) -> SourceLocation {
        match (&s.fixture, &s.url, &s.oci) {
            (Some(fixture), None, None) => {
                SourceLocation::Fixture(self.existing_dir(c, "spec.source.fixture", fixture))
            }
            (None, Some(url), None) => {
                if url.trim().is_empty() {
                    c.field("spec.source.url", "is empty");
                }
                SourceLocation::Url(url.clone())
            }
            (None, None, Some(oci)) => oci_location(c, oci),
            (None, None, None) => {
                c.field_help(
                    "spec.source",
                    "needs `fixture` (a folder), `url` (a Git repository) or `oci` (an OCI artifact)",
                    "e.g. `fixture: ../fixtures/repos/podinfo`",
                );
                SourceLocation::Url(String::new())
            }
            _ => {
                let given: Vec<&str> = [
                    ("`fixture`", s.fixture.is_some()),
                    ("`url`", s.url.is_some()),
                    ("`oci`", s.oci.is_some()),
                ]
                .into_iter()
                .filter_map(|(n, set)| set.then_some(n))
                .collect();
                c.field_help(
                    "spec.source",
                    match given.as_slice() {
                        [a, b] => format!("has both {a} and {b}"),
                        _ => format!("has {}", given.join(", ")),
                    },
                    "keep one: `fixture` for a folder turned into a fresh repository, `url` for a real one, `oci` for an OCI artifact",
                );
                SourceLocation::Url(String::new())
            }
        }
    }
}

/// `spec.source.oci`: an `oci://` URL without tag, and at most one of a
/// valid tag and a semver range that parses.
fn oci_location(c: &mut Collector, oci: &file::OciSourceSpec) -> SourceLocation {
    if let Err(e) = crate::gitops::oci::Url::parse(&oci.url) {
        c.field_help(
            "spec.source.oci.url",
            e,
            "e.g. `url: oci://ghcr.io/acme/fleet` with `tag:` or `semver:` beside it",
        );
    }
    let reference = match (&oci.tag, &oci.semver) {
        (Some(_), Some(_)) => {
            c.field_help(
                "spec.source.oci",
                "has both `tag` and `semver`",
                "keep one: a tag to follow, or a semver range whose highest matching tag is followed",
            );
            ArtifactRef::Tag(String::new())
        }
        (None, Some(range)) => {
            if let Err(e) = crate::gitops::fetch::semver::Constraint::parse(range) {
                c.field_help(
                    "spec.source.oci.semver",
                    format!("{range:?} is not a semver range: {e}"),
                    "e.g. `1.x`, `>=1.0.0 <2.0.0`, `*`",
                );
            }
            ArtifactRef::Semver(range.clone())
        }
        (tag, None) => {
            let tag = tag.clone().unwrap_or_else(|| "latest".to_owned());
            if !crate::gitops::oci::valid_tag(&tag) {
                c.field_help(
                    "spec.source.oci.tag",
                    format!("{tag:?} is not an OCI tag"),
                    "a tag is 1 to 128 of letters, digits, `_`, `.` and `-`, not starting with `.` or `-`",
                );
            }
            ArtifactRef::Tag(tag)
        }
    };
    SourceLocation::Oci {
        url: oci.url.clone(),
        reference,
    }
}
