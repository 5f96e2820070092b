//! Pod IPs: each node hands out addresses of its `podCIDR` (a /24 of
//! 10.244.0.0/16, as kind's kindnet does), sequentially from the last one
//! assigned like the host-local IPAM plugin, skipping addresses in use.

use std::collections::{BTreeSet, HashMap};

/// Pod IP allocation per node.
#[derive(Debug, Default)]
pub(crate) struct Ips {
    used: HashMap<String, BTreeSet<u8>>,
    cursor: HashMap<String, u8>,
    by_pod: HashMap<String, (String, String)>,
}

impl Ips {
    /// The IP of pod `pod` on `node` whose `podCIDR` is `cidr`
    /// (`10.244.1.0/24`); the same IP when the pod already has one there.
    pub(crate) fn assign(&mut self, pod: &str, node: &str, cidr: &str) -> String {
        if let Some((n, ip)) = self.by_pod.get(pod)
            && n == node
        {
            return ip.clone();
        }
        self.release(pod);
        let prefix = cidr
            .split('/')
            .next()
            .and_then(|a| a.rsplit_once('.'))
            .map_or("10.244.0", |(p, _)| p)
            .to_owned();
        let used = self.used.entry(node.to_owned()).or_default();
        let cursor = self.cursor.entry(node.to_owned()).or_insert(1);
        // Hosts 2..=254: .1 is the node's bridge, .255 broadcast.
        let mut host = *cursor;
        for _ in 0..253 {
            host = if host >= 254 { 2 } else { host + 1 };
            if !used.contains(&host) {
                break;
            }
        }
        *cursor = host;
        used.insert(host);
        let ip = format!("{prefix}.{host}");
        self.by_pod
            .insert(pod.to_owned(), (node.to_owned(), ip.clone()));
        ip
    }

    /// Frees the IP of a deleted pod.
    pub(crate) fn release(&mut self, pod: &str) {
        if let Some((node, ip)) = self.by_pod.remove(pod)
            && let Some(host) = ip.rsplit('.').next().and_then(|h| h.parse::<u8>().ok())
            && let Some(set) = self.used.get_mut(&node)
        {
            set.remove(&host);
        }
    }

    /// Forgets a deleted node.
    pub(crate) fn forget_node(&mut self, node: &str) {
        self.used.remove(node);
        self.cursor.remove(node);
        self.by_pod.retain(|_, (n, _)| n != node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_unique_and_reused_after_release() {
        let mut ips = Ips::default();
        assert_eq!(ips.assign("a", "n1", "10.244.1.0/24"), "10.244.1.2");
        assert_eq!(ips.assign("b", "n1", "10.244.1.0/24"), "10.244.1.3");
        assert_eq!(ips.assign("a", "n1", "10.244.1.0/24"), "10.244.1.2");
        assert_eq!(ips.assign("c", "n2", "10.244.2.0/24"), "10.244.2.2");
        ips.release("a");
        assert_eq!(ips.assign("d", "n1", "10.244.1.0/24"), "10.244.1.4");
    }
}
