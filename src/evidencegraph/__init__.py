"""evidencegraph: relation pages to linked data.

Parse relation pages into RDF, validate them with SHACL, load them into a
persistent store, query and export them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
