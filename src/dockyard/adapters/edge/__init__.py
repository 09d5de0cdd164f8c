"""The edge load balancer: HAProxy through its runtime API (haproxy.py)."""
