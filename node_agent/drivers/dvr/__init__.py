"""dvr drivers: base.py (the Protocol) and fake.py."""
