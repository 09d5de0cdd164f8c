"""The edge load balancer: Caddy through its admin API (caddy.py)."""
