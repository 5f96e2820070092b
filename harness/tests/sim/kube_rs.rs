//! kube-rs against the simulator.
