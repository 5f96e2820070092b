//! Inventories: the set of objects an apply owns, in Flux's format
//! (`status.inventory` of a Kustomization), so that the next apply can prune
//! what disappeared from the source.
//!
//! ```yaml
//! inventory:
//!   entries:
//!   - {id: podinfo_podinfo_apps_Deployment, v: v1}
//!   - {id: _podinfo__Namespace, v: v1}
//! ```
//!
//! Entries compare by id only: an object whose API version changed is the
//! same object.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::object::{ObjectId, Versioned};

/// One owned object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    /// `<namespace>_<name>_<group>_<kind>`.
    pub id: String,
    /// The API version it was applied at.
    pub v: String,
}

impl InventoryEntry {
    /// The entry's object.
    ///
    /// # Errors
    /// A message when the id is malformed.
    pub fn object(&self) -> Result<Versioned, String> {
        Ok(Versioned {
            id: ObjectId::parse_inventory_id(&self.id)?,
            version: self.v.clone(),
        })
    }
}

/// The objects an apply owns. Persist it (Flux keeps it in the
/// Kustomization's status; the direct reconciler in its status channel) and
/// hand it to the next apply's prune.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The entries, in apply order.
    #[serde(default)]
    pub entries: Vec<InventoryEntry>,
}

impl Inventory {
    /// The inventory of `objects` (duplicates dropped, order kept).
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a Versioned>) -> Inventory {
        let mut seen = HashSet::new();
        let entries = objects
            .into_iter()
            .filter(|o| seen.insert(o.id.inventory_id()))
            .map(|o| InventoryEntry {
                id: o.id.inventory_id(),
                v: o.version.clone(),
            })
            .collect();
        Inventory { entries }
    }

    /// Reads Flux's `status.inventory` (None or malformed gives an empty
    /// inventory: nothing is known to be owned, so nothing is pruned).
    pub fn from_status(status_inventory: Option<&serde_json::Value>) -> Inventory {
        status_inventory
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// The JSON of `status.inventory`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"entries": []}))
    }

    /// True when it has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the object is in the inventory.
    pub fn contains(&self, id: &ObjectId) -> bool {
        let key = id.inventory_id();
        self.entries.iter().any(|e| e.id == key)
    }

    /// The entries of `self` that `newer` no longer has: what a prune
    /// deletes after `newer` was applied.
    pub fn stale(&self, newer: &Inventory) -> Inventory {
        let keep: HashSet<&str> = newer.entries.iter().map(|e| e.id.as_str()).collect();
        Inventory {
            entries: self
                .entries
                .iter()
                .filter(|e| !keep.contains(e.id.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Adds the entries of `other` that are not here yet (objects a failed
    /// prune left behind stay owned, so the next prune retries them).
    pub fn merge(&mut self, other: &Inventory) {
        let have: HashSet<String> = self.entries.iter().map(|e| e.id.clone()).collect();
        self.entries.extend(
            other
                .entries
                .iter()
                .filter(|e| !have.contains(&e.id))
                .cloned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: ObjectId) -> Versioned {
        Versioned {
            id,
            version: "v1".into(),
        }
    }

    #[test]
    fn stale_entries_are_those_gone_from_the_newer_inventory() {
        let a = v(ObjectId::namespaced("", "ConfigMap", "x", "a"));
        let b = v(ObjectId::namespaced("", "ConfigMap", "x", "b"));
        let ns = v(ObjectId::cluster("", "Namespace", "x"));
        let old = Inventory::from_objects([&ns, &a, &b]);
        let new = Inventory::from_objects([&ns, &a]);
        let stale = old.stale(&new);
        assert_eq!(
            stale.entries,
            vec![InventoryEntry {
                id: "x_b__ConfigMap".into(),
                v: "v1".into()
            }]
        );
        assert_eq!(stale.entries[0].object().unwrap(), b);
        assert!(new.stale(&old).is_empty());
    }

    #[test]
    fn round_trips_through_flux_status_json() {
        let inv =
            Inventory::from_objects([&v(ObjectId::namespaced("apps", "Deployment", "p", "p"))]);
        let json = inv.to_json();
        assert_eq!(
            json,
            serde_json::json!({"entries": [{"id": "p_p_apps_Deployment", "v": "v1"}]})
        );
        assert_eq!(Inventory::from_status(Some(&json)), inv);
        assert!(Inventory::from_status(None).is_empty());
    }
}
