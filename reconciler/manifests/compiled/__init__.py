"""Generated: the schemas compiled to Python by ``reconciler.manifests.schema_code``.

manifest.py     the check of manifest.schema.json
config.py       the check of config.schema.json
"""
