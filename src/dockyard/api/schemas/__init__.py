"""Request and response bodies of the REST API (``/api/v1``).

Request bodies forbid unknown fields: a field that is not meant to be set (an owner, a namespace, a
version's number) is refused with 422 instead of being ignored or, worse, taken. A version's ``spec``
is checked by the domain, whose errors name the exact path (``spec.ports[1].port``).

One module per topic, as ``api/routes/`` is: import a body from its topic's module. Class names are
the OpenAPI schema names the console's client is generated from: keep them.
"""
