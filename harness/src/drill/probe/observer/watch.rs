//! How one kind is watched: a kube-runtime watcher over every namespace
//! with a short back-off, merged — on the simulator — with the tokens of
//! the writes it will deliver ([`super::in_flight`]).

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::discovery::Discovery;
use kube::runtime::utils::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use super::in_flight::{Item, Tagged};
use super::world::GroupKind;
use crate::clock::TimeSource;

/// The watch of `gk` (served as `ar`), its items tagged with the kind.
pub(super) fn watch_kind(
    client: &kube::Client,
    times: &TimeSource,
    gk: GroupKind,
    ar: ApiResource,
) -> BoxStream<'static, Tagged> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let tag = gk.clone();
    let watch = watcher::watcher(api, watcher::Config::default())
        .backoff(QuickBackoff::default())
        .map(move |ev| (tag.clone(), Item::Watch(Box::new(ev))));
    match times.stamps() {
        Some(stamps) => {
            // Subscribed before the watch lists, so no write is missed.
            let tokens = stamps
                .writes(&ar.group, &ar.plural)
                .map(move |(rev, busy)| (gk.clone(), Item::Token(rev, busy)));
            futures::stream::select(watch, tokens).boxed()
        }
        None => watch.boxed(),
    }
}

/// The preferred version's resource for a kind.
pub(super) fn resolve(discovery: &Discovery, gk: &GroupKind) -> Option<ApiResource> {
    let group = discovery.get(&gk.group)?;
    group.recommended_kind(&gk.kind).map(|(ar, _)| ar)
}

/// One line for trace logs.
pub(super) fn event_summary(ev: &Event<DynamicObject>) -> String {
    let name = |o: &DynamicObject| {
        format!(
            "{}@{}",
            o.metadata.name.as_deref().unwrap_or("?"),
            o.metadata.resource_version.as_deref().unwrap_or("?")
        )
    };
    match ev {
        Event::Init => "init".into(),
        Event::InitDone => "init-done".into(),
        Event::InitApply(o) => format!("init-apply {}", name(o)),
        Event::Apply(o) => format!("apply {}", name(o)),
        Event::Delete(o) => format!("delete {}", name(o)),
    }
}

/// Watch back-off: short, because a drill measures recovery and a watcher
/// sleeping 30 s after an API outage would measure itself.
#[derive(Debug, Clone)]
struct QuickBackoff {
    next: Duration,
}

impl Default for QuickBackoff {
    fn default() -> Self {
        QuickBackoff {
            next: Duration::from_millis(20),
        }
    }
}

impl Iterator for QuickBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (self.next * 2).min(Duration::from_millis(500));
        Some(d)
    }
}

impl kube::runtime::utils::Backoff for QuickBackoff {
    fn reset(&mut self) {
        *self = QuickBackoff::default();
    }
}
