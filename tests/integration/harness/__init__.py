"""The integration tests' harness: everything two test modules would otherwise each write.

- ``sandboxes``: the shared sandbox clusters' handle (:class:`Sandbox`), ``free_port``.
- ``servers``: a Dockyard server in-process (``in_process``) or as a process (``ServerProcess``,
  ``server_process``), and test ``settings`` / a process environment with the first admin's token;
  ``SHORT_LEASE`` for server processes a test kills.
- ``client``: the REST API as tests drive it (``Api``, ``create_group``, ``register_cluster``,
  waiting for operations, releases and group states).
- ``tokens``: ``ADMIN_TOKEN``/``ADMIN``, ``bearer``, users with a token or a password.
- ``platforms``: the services without HTTP (a started platform, groups, a deploy run to its end).
- ``kube``: a group's live pods and versions in a cluster, and ``settled`` to wait for a split.
- ``specs``: version specs as API bodies.
- ``routes``: who may call each route (the permission matrix's rules, also used by the tenants test).
- ``cli``: the ``dockyard`` command as a user runs it.
- ``waiting``: ``eventually`` / ``eventually_blocking``, the one way a test polls.
- ``pools``: private KWOK node pools for one test; ``postgres``: the run's PostgreSQL server.

Fixtures live in ``tests/integration/conftest.py`` and use these; test modules import from here,
never from one another.
"""
