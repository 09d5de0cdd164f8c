"""Dockyard: an application-centric container cloud platform on Kubernetes."""

__version__ = "0.1.0"
