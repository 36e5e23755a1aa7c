"""The IRIs of the W3C and Dublin Core terms the pipeline writes and reads, as plain strings.

No imports: the page mapping (mapping.py) and the search index's rows (searchrows.py) both take them from here,
and the search index is opened by commands that never load rdflib.
"""

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
SCHEMA_VERSION = "https://schema.org/softwareVersion"
STRING = XSD + "string"
