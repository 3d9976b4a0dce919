"""Manifests and settings: from YAML files on disk to desired apps for one environment.

yamlfile.py     YAML read into plain data plus where every node came from (file:line:col)
variables.py    ${NAME} substitution with located errors
schema.py       JSON Schema validation mapped back to the node at fault
schema_docs.py  docs/manifest.md, generated from the manifest schema
lint.py         OAuth rules a schema cannot say
settings_lint.py  the rules across login, native, organization and token settings
evaluation.py   manifest files found, parsed, substituted, validated, linted
desired.py      validated manifests -> DesiredApp values
config.py       reconciler.yaml: environments, variables, safety thresholds
workspace.py    one run's inputs: settings found, manifest paths, environment in force
export.py       registry apps -> manifest files (no secrets, no stamps)
edit.py         edits of a manifest's text that leave the lines they are not about as they were
"""
