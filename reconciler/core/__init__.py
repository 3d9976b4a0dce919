"""The pure core: values, the planner and the renderers. No I/O, and it imports none.

fields.py       the canonical field vocabulary shared by manifests, registries and plans
defaults.py     what Auth0 fills in on a new client whose body leaves a member out
model.py        DesiredApp (what a manifest asks for), App (what a registry holds), Source;
                Grant, Api, LoginConnection (a registry's client grants, APIs, connections)
keys.py         what identifies a key or certificate (RFC 7638 kids), and expiry spellings
stamp.py        the ownership stamp written into an app's metadata
cimd_fields.py  how Auth0 maps a Client ID Metadata Document onto client fields
app_settings.py Auth0's values and rules for login, native, request and token settings
third_party.py  what Auth0 allows a third-party app (its strict security controls)
hosts.py        loopback hosts and IP literals, one answer for every rule
scope.py        the manifest files and app keys a partial run was shown
changes.py      change kinds (create, update, delete, adopt, refresh, deliver, rotate)
risks.py        risk labels a reviewer should see on a change
safety.py       Safety: the thresholds past which apply refuses a plan
plan.py         Plan: ordered changes, the safety gate, the saved (checksummed) form
access.py       the grants and connection links that must change for apps' access
references.py   the APIs, scopes and connections manifests name that the registry lacks
comparison.py   what differs between a declared app and its registry app, as data
rotation.py     the order that moves an app's credentials within a registry's limit
planner.py      desired x current -> Plan
comment.py      what a pull-request comment shows beyond the plan, and its byte budget
render.py       Plan -> text, json, markdown, GitHub annotations
environments.py one report for every environment (--all-envs): a section each
color.py        whether the text output is coloured (--color, NO_COLOR)
collector.py    pausing the cyclic garbage collector around allocation-heavy work
"""
