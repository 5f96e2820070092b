//! Property tests of the store: random writes across namespaces; the watch
//! history replays to exactly the final state; revisions strictly
//! increase; no acknowledged write is lost.

use std::collections::BTreeMap;
use std::sync::Arc;

use gameday::clock::Clock;
use gameday::sim::storage::kinds::Registry;
use gameday::sim::storage::selectors::Selector;
use gameday::sim::storage::store::{
    DeleteOptions, EventFilter, EventType, GroupResource, StoreOptions, WriteOptions,
};
use gameday::sim::{Gvr, ObjectRef, Reason, Store};
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Create(usize, usize, u8),
    Update(usize, usize, u8),
    Delete(usize, usize),
}

const NAMESPACES: [&str; 3] = ["a", "b", "c"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..5usize, any::<u8>()).prop_map(|(n, i, v)| Op::Create(n, i, v)),
        (0..3usize, 0..5usize, any::<u8>()).prop_map(|(n, i, v)| Op::Update(n, i, v)),
        (0..3usize, 0..5usize).prop_map(|(n, i)| Op::Delete(n, i)),
    ]
}

type State = BTreeMap<(String, String), Value>;

fn key(obj: &Value) -> (String, String) {
    let m = &obj["metadata"];
    (
        m["namespace"].as_str().unwrap().to_owned(),
        m["name"].as_str().unwrap().to_owned(),
    )
}

fn listed(store: &Store) -> State {
    let l = store
        .list(&Gvr::core("configmaps"), None, &Selector::default())
        .unwrap();
    l.items.iter().map(|o| (key(o), (**o).clone())).collect()
}

fn rv(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn history_replays_to_the_final_list(ops in proptest::collection::vec(op(), 1..80), capacity in prop_oneof![Just(10_000usize), 5usize..40]) {
        let store = Store::new(Registry::with_builtins(), Clock::wall(), StoreOptions { history_capacity: capacity, seed: 1 });
        for ns in NAMESPACES {
            store.create(&Gvr::core("namespaces"), None, json!({"metadata": {"name": ns}}), &WriteOptions::default()).unwrap();
        }
        let gvr = Gvr::core("configmaps");
        let mut model: BTreeMap<(String, String), Value> = BTreeMap::new();
        let mut snapshots: Vec<(u64, State)> = vec![(store.revision(), listed(&store))];
        let mut last_rv = store.revision();
        for op in ops {
            let (ns, name) = match &op {
                Op::Create(n, i, _) | Op::Update(n, i, _) | Op::Delete(n, i) => (NAMESPACES[*n], format!("cm-{i}")),
            };
            let r = ObjectRef::namespaced(gvr.clone(), ns, &name);
            let k = (ns.to_owned(), name.clone());
            let before = store.revision();
            let written: Option<Arc<Value>> = match op {
                Op::Create(_, _, v) => {
                    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": v.to_string()}});
                    match store.create(&gvr, Some(ns), body, &WriteOptions::manager("prop")) {
                        Ok(o) => { model.insert(k, json!({"v": v.to_string()})); Some(o) }
                        Err(e) => { prop_assert_eq!(e.reason, Reason::AlreadyExists); prop_assert!(model.contains_key(&k)); None }
                    }
                }
                Op::Update(_, _, v) => {
                    match store.mutate(&r, false, &WriteOptions::manager("prop"), |o| { o["data"] = json!({"v": v.to_string()}); Ok(()) }) {
                        Ok(o) => { model.insert(k, json!({"v": v.to_string()})); Some(o) }
                        Err(e) => { prop_assert!(e.is_not_found()); prop_assert!(!model.contains_key(&k)); None }
                    }
                }
                Op::Delete(..) => match store.delete(&r, &DeleteOptions::default()) {
                    Ok(d) => { model.remove(&k); Some(d.into_object()) }
                    Err(e) => { prop_assert!(e.is_not_found()); prop_assert!(!model.contains_key(&k)); None }
                },
            };
            if let Some(o) = written {
                let after = store.revision();
                // A no-op update writes nothing; any other write gets the
                // next revision, strictly above every earlier one.
                if after != before {
                    prop_assert_eq!(rv(&o), after);
                    prop_assert!(after > last_rv);
                    last_rv = after;
                }
                snapshots.push((after, listed(&store)));
            }
        }
        // No acknowledged write is lost.
        let final_list = listed(&store);
        let final_data: BTreeMap<_, _> = final_list.iter().map(|(k, v)| (k.clone(), v["data"].clone())).collect();
        prop_assert_eq!(&final_data, &model);
        // Replaying the history from any retained revision gives the final list.
        let filter = EventFilter::resource(GroupResource::new("", "configmaps"));
        for (rev, snapshot) in snapshots {
            match store.events_since(rev, &filter) {
                Ok(events) => {
                    let mut state = snapshot;
                    let mut prev = rev;
                    for ev in events {
                        prop_assert!(ev.revision > prev, "events in strictly increasing revision order");
                        prev = ev.revision;
                        prop_assert_eq!(rv(&ev.object), ev.revision);
                        match ev.kind {
                            EventType::Added | EventType::Modified => { state.insert(key(&ev.object), (*ev.object).clone()); }
                            EventType::Deleted => { state.remove(&key(&ev.object)); }
                        }
                    }
                    prop_assert_eq!(&state, &final_list);
                }
                Err(e) => {
                    prop_assert_eq!(e.reason, Reason::Expired);
                    prop_assert!(rev < store.oldest_revision());
                }
            }
        }
    }
}
