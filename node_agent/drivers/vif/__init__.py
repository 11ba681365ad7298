"""vif drivers: base.py (the Protocol, tap naming), fake.py, ovs.py, linux_bridge.py, and
ovn_binding.py (the southbound watcher that reports ports up)."""
