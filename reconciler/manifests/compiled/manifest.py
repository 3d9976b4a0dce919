# Generated from schemas/manifest.schema.json by `python -m reconciler.manifests.schema_code`;
# do not edit: edit the schema and run it again.
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^[a-z0-9][a-z0-9._-]{0,62}$': re.compile('^[a-z0-9][a-z0-9._-]{0,62}\\Z'),
    '^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$': re.compile('^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*\\Z'),
    '^[0-9a-zA-Z_-]{10,64}$': re.compile('^[0-9a-zA-Z_-]{10,64}\\Z')
}

NoneType = type(None)

def validate_https___reconciler_dev_schemas_manifest_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['apps']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "apps" in data_keys:
            data_keys.remove("apps")
            data__apps = data["apps"]
            if not isinstance(data__apps, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".apps must be object")
            data__apps_is_dict = isinstance(data__apps, dict)
            if data__apps_is_dict:
                data__apps_keys = set(data__apps.keys())
                for data__apps_key in data__apps_keys:
                    if data__apps_key not in []:
                        data__apps_value = data__apps.get(data__apps_key)
                        validate_https___reconciler_dev_schemas_manifest_schema_json___defs_app(data__apps_value, custom_formats, name_prefix)
                data__apps_len = len(data__apps)
                if data__apps_len != 0:
                    data__apps_property_names = True
                    for data__apps_key in data__apps:
                        try:
                            if isinstance(data__apps_key, str):
                                if not REGEX_PATTERNS['^[a-z0-9][a-z0-9._-]{0,62}$'].search(data__apps_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".apps must match pattern ^[a-z0-9][a-z0-9._-]{0,62}$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__apps_property_names = False
                    if not data__apps_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".apps must be named by propertyName definition")
        if "third_party_apis" in data_keys:
            data_keys.remove("third_party_apis")
            data__thirdpartyapis = data["third_party_apis"]
            if not isinstance(data__thirdpartyapis, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".third_party_apis must be array")
            data__thirdpartyapis_is_list = isinstance(data__thirdpartyapis, (list, tuple))
            if data__thirdpartyapis_is_list:
                data__thirdpartyapis_len = len(data__thirdpartyapis)
                for data__thirdpartyapis_x, data__thirdpartyapis_item in enumerate(data__thirdpartyapis):
                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_apigrant(data__thirdpartyapis_item, custom_formats, name_prefix)
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_apigrant(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['audience']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "audience" in data_keys:
            data_keys.remove("audience")
            data__audience = data["audience"]
            if not isinstance(data__audience, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".audience must be string")
            if isinstance(data__audience, str):
                data__audience_len = len(data__audience)
                if data__audience_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".audience must be longer than or equal to 1 characters")
                if data__audience_len > 600:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".audience must be shorter than or equal to 600 characters")
        if "scopes" in data_keys:
            data_keys.remove("scopes")
            data__scopes = data["scopes"]
            if not isinstance(data__scopes, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".scopes must be array")
            data__scopes_is_list = isinstance(data__scopes, (list, tuple))
            if data__scopes_is_list:
                data__scopes_len = len(data__scopes)
                for data__scopes_x, data__scopes_item in enumerate(data__scopes):
                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_scope(data__scopes_item, custom_formats, name_prefix)
        if "subject_type" in data_keys:
            data_keys.remove("subject_type")
            data__subjecttype = data["subject_type"]
            if not (isinstance(data__subjecttype, str) and data__subjecttype == 'client' or isinstance(data__subjecttype, str) and data__subjecttype == 'user'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".subject_type must be one of ['client', 'user']")
        if "organization_usage" in data_keys:
            data_keys.remove("organization_usage")
            data__organizationusage = data["organization_usage"]
            if not (isinstance(data__organizationusage, str) and data__organizationusage == 'deny' or isinstance(data__organizationusage, str) and data__organizationusage == 'allow' or isinstance(data__organizationusage, str) and data__organizationusage == 'require'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_usage must be one of ['deny', 'allow', 'require']")
        if "allow_any_organization" in data_keys:
            data_keys.remove("allow_any_organization")
            data__allowanyorganization = data["allow_any_organization"]
            if not isinstance(data__allowanyorganization, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allow_any_organization must be boolean")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_scope(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        data_len = len(data)
        if data_len < 1:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be longer than or equal to 1 characters")
        if data_len > 280:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be shorter than or equal to 280 characters")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_app(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be longer than or equal to 1 characters")
                if data__name_len > 255:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be shorter than or equal to 255 characters")
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'native' or isinstance(data__type, str) and data__type == 'spa' or isinstance(data__type, str) and data__type == 'regular_web' or isinstance(data__type, str) and data__type == 'm2m'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be one of ['native', 'spa', 'regular_web', 'm2m']")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".description must be string")
        if "callbacks" in data_keys:
            data_keys.remove("callbacks")
            data__callbacks = data["callbacks"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_urllist(data__callbacks, custom_formats, (name_prefix or "data") + ".callbacks")
        if "allowed_origins" in data_keys:
            data_keys.remove("allowed_origins")
            data__allowedorigins = data["allowed_origins"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_urllist(data__allowedorigins, custom_formats, (name_prefix or "data") + ".allowed_origins")
        if "web_origins" in data_keys:
            data_keys.remove("web_origins")
            data__weborigins = data["web_origins"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_urllist(data__weborigins, custom_formats, (name_prefix or "data") + ".web_origins")
        if "allowed_logout_urls" in data_keys:
            data_keys.remove("allowed_logout_urls")
            data__allowedlogouturls = data["allowed_logout_urls"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_urllist(data__allowedlogouturls, custom_formats, (name_prefix or "data") + ".allowed_logout_urls")
        if "initiate_login_uri" in data_keys:
            data_keys.remove("initiate_login_uri")
            data__initiateloginuri = data["initiate_login_uri"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data__initiateloginuri, custom_formats, (name_prefix or "data") + ".initiate_login_uri")
        if "logo_uri" in data_keys:
            data_keys.remove("logo_uri")
            data__logouri = data["logo_uri"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data__logouri, custom_formats, (name_prefix or "data") + ".logo_uri")
        if "client_uri" in data_keys:
            data_keys.remove("client_uri")
            data__clienturi = data["client_uri"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data__clienturi, custom_formats, (name_prefix or "data") + ".client_uri")
        if "policy_uri" in data_keys:
            data_keys.remove("policy_uri")
            data__policyuri = data["policy_uri"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data__policyuri, custom_formats, (name_prefix or "data") + ".policy_uri")
        if "tos_uri" in data_keys:
            data_keys.remove("tos_uri")
            data__tosuri = data["tos_uri"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data__tosuri, custom_formats, (name_prefix or "data") + ".tos_uri")
        if "contacts" in data_keys:
            data_keys.remove("contacts")
            data__contacts = data["contacts"]
            if not isinstance(data__contacts, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".contacts must be array")
            data__contacts_is_list = isinstance(data__contacts, (list, tuple))
            if data__contacts_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__contacts_len = len(data__contacts)
                if data__contacts_len > len(set(fn(data__contacts_x) for data__contacts_x in data__contacts)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".contacts must contain unique items")
                for data__contacts_x, data__contacts_item in enumerate(data__contacts):
                    if not isinstance(data__contacts_item, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".contacts[{data__contacts_x}]".format(**locals()) + " must be string")
                    if isinstance(data__contacts_item, str):
                        data__contacts_item_len = len(data__contacts_item)
                        if data__contacts_item_len < 3:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".contacts[{data__contacts_x}]".format(**locals()) + " must be longer than or equal to 3 characters")
                        if data__contacts_item_len > 254:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".contacts[{data__contacts_x}]".format(**locals()) + " must be shorter than or equal to 254 characters")
        if "grant_types" in data_keys:
            data_keys.remove("grant_types")
            data__granttypes = data["grant_types"]
            if not isinstance(data__granttypes, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".grant_types must be array")
            data__granttypes_is_list = isinstance(data__granttypes, (list, tuple))
            if data__granttypes_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__granttypes_len = len(data__granttypes)
                if data__granttypes_len > len(set(fn(data__granttypes_x) for data__granttypes_x in data__granttypes)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".grant_types must contain unique items")
                for data__granttypes_x, data__granttypes_item in enumerate(data__granttypes):
                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_granttype(data__granttypes_item, custom_formats, name_prefix)
        if "token_endpoint_auth_method" in data_keys:
            data_keys.remove("token_endpoint_auth_method")
            data__tokenendpointauthmethod = data["token_endpoint_auth_method"]
            if not (isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'none' or isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'client_secret_post' or isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'client_secret_basic' or isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'private_key_jwt' or isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'tls_client_auth' or isinstance(data__tokenendpointauthmethod, str) and data__tokenendpointauthmethod == 'self_signed_tls_client_auth'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_endpoint_auth_method must be one of ['none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']")
        if "is_first_party" in data_keys:
            data_keys.remove("is_first_party")
            data__isfirstparty = data["is_first_party"]
            if not isinstance(data__isfirstparty, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".is_first_party must be boolean")
        if "oidc_conformant" in data_keys:
            data_keys.remove("oidc_conformant")
            data__oidcconformant = data["oidc_conformant"]
            if not isinstance(data__oidcconformant, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_conformant must be boolean")
        if "cross_origin_authentication" in data_keys:
            data_keys.remove("cross_origin_authentication")
            data__crossoriginauthentication = data["cross_origin_authentication"]
            if not isinstance(data__crossoriginauthentication, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cross_origin_authentication must be boolean")
        if "refresh_token" in data_keys:
            data_keys.remove("refresh_token")
            data__refreshtoken = data["refresh_token"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_refreshtoken(data__refreshtoken, custom_formats, (name_prefix or "data") + ".refresh_token")
        if "jwt_configuration" in data_keys:
            data_keys.remove("jwt_configuration")
            data__jwtconfiguration = data["jwt_configuration"]
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_jwtconfiguration(data__jwtconfiguration, custom_formats, (name_prefix or "data") + ".jwt_configuration")
        if "organization_usage" in data_keys:
            data_keys.remove("organization_usage")
            data__organizationusage = data["organization_usage"]
            if not (isinstance(data__organizationusage, str) and data__organizationusage == 'deny' or isinstance(data__organizationusage, str) and data__organizationusage == 'allow' or isinstance(data__organizationusage, str) and data__organizationusage == 'require'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_usage must be one of ['deny', 'allow', 'require']")
        if "organization_require_behavior" in data_keys:
            data_keys.remove("organization_require_behavior")
            data__organizationrequirebehavior = data["organization_require_behavior"]
            if not (isinstance(data__organizationrequirebehavior, str) and data__organizationrequirebehavior == 'no_prompt' or isinstance(data__organizationrequirebehavior, str) and data__organizationrequirebehavior == 'pre_login_prompt' or isinstance(data__organizationrequirebehavior, str) and data__organizationrequirebehavior == 'post_login_prompt'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_require_behavior must be one of ['no_prompt', 'pre_login_prompt', 'post_login_prompt']")
        if "organization_discovery_methods" in data_keys:
            data_keys.remove("organization_discovery_methods")
            data__organizationdiscoverymethods = data["organization_discovery_methods"]
            if not isinstance(data__organizationdiscoverymethods, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_discovery_methods must be array")
            data__organizationdiscoverymethods_is_list = isinstance(data__organizationdiscoverymethods, (list, tuple))
            if data__organizationdiscoverymethods_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__organizationdiscoverymethods_len = len(data__organizationdiscoverymethods)
                if data__organizationdiscoverymethods_len > len(set(fn(data__organizationdiscoverymethods_x) for data__organizationdiscoverymethods_x in data__organizationdiscoverymethods)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_discovery_methods must contain unique items")
                for data__organizationdiscoverymethods_x, data__organizationdiscoverymethods_item in enumerate(data__organizationdiscoverymethods):
                    if not (isinstance(data__organizationdiscoverymethods_item, str) and data__organizationdiscoverymethods_item == 'email' or isinstance(data__organizationdiscoverymethods_item, str) and data__organizationdiscoverymethods_item == 'organization_name'):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".organization_discovery_methods[{data__organizationdiscoverymethods_x}]".format(**locals()) + " must be one of ['email', 'organization_name']")
        if "default_organization" in data_keys:
            data_keys.remove("default_organization")
            data__defaultorganization = data["default_organization"]
            if not isinstance(data__defaultorganization, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization must be object")
            data__defaultorganization_is_dict = isinstance(data__defaultorganization, dict)
            if data__defaultorganization_is_dict:
                data__defaultorganization__missing_keys = set(['organization_id', 'flows']) - data__defaultorganization.keys()
                if data__defaultorganization__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization must contain ")
                data__defaultorganization_keys = set(data__defaultorganization.keys())
                if "organization_id" in data__defaultorganization_keys:
                    data__defaultorganization_keys.remove("organization_id")
                    data__defaultorganization__organizationid = data__defaultorganization["organization_id"]
                    if not isinstance(data__defaultorganization__organizationid, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.organization_id must be string")
                    if isinstance(data__defaultorganization__organizationid, str):
                        data__defaultorganization__organizationid_len = len(data__defaultorganization__organizationid)
                        if data__defaultorganization__organizationid_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.organization_id must be longer than or equal to 1 characters")
                if "flows" in data__defaultorganization_keys:
                    data__defaultorganization_keys.remove("flows")
                    data__defaultorganization__flows = data__defaultorganization["flows"]
                    if not isinstance(data__defaultorganization__flows, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.flows must be array")
                    data__defaultorganization__flows_is_list = isinstance(data__defaultorganization__flows, (list, tuple))
                    if data__defaultorganization__flows_is_list:
                        data__defaultorganization__flows_len = len(data__defaultorganization__flows)
                        if data__defaultorganization__flows_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.flows must contain at least 1 items")
                        def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                        if data__defaultorganization__flows_len > len(set(fn(data__defaultorganization__flows_x) for data__defaultorganization__flows_x in data__defaultorganization__flows)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.flows must contain unique items")
                        for data__defaultorganization__flows_x, data__defaultorganization__flows_item in enumerate(data__defaultorganization__flows):
                            if not (isinstance(data__defaultorganization__flows_item, str) and data__defaultorganization__flows_item == 'client_credentials'):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization.flows[{data__defaultorganization__flows_x}]".format(**locals()) + " must be one of ['client_credentials']")
                if data__defaultorganization_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_organization must not contain "+str(data__defaultorganization_keys)+" properties")
        if "sso_disabled" in data_keys:
            data_keys.remove("sso_disabled")
            data__ssodisabled = data["sso_disabled"]
            if not isinstance(data__ssodisabled, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".sso_disabled must be boolean")
        if "oidc_logout" in data_keys:
            data_keys.remove("oidc_logout")
            data__oidclogout = data["oidc_logout"]
            if not isinstance(data__oidclogout, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout must be object")
            data__oidclogout_is_dict = isinstance(data__oidclogout, dict)
            if data__oidclogout_is_dict:
                data__oidclogout_keys = set(data__oidclogout.keys())
                if "backchannel_logout_urls" in data__oidclogout_keys:
                    data__oidclogout_keys.remove("backchannel_logout_urls")
                    data__oidclogout__backchannellogouturls = data__oidclogout["backchannel_logout_urls"]
                    if not isinstance(data__oidclogout__backchannellogouturls, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_urls must be array")
                    data__oidclogout__backchannellogouturls_is_list = isinstance(data__oidclogout__backchannellogouturls, (list, tuple))
                    if data__oidclogout__backchannellogouturls_is_list:
                        data__oidclogout__backchannellogouturls_len = len(data__oidclogout__backchannellogouturls)
                        if data__oidclogout__backchannellogouturls_len > 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_urls must contain less than or equal to 1 items")
                        def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                        if data__oidclogout__backchannellogouturls_len > len(set(fn(data__oidclogout__backchannellogouturls_x) for data__oidclogout__backchannellogouturls_x in data__oidclogout__backchannellogouturls)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_urls must contain unique items")
                        for data__oidclogout__backchannellogouturls_x, data__oidclogout__backchannellogouturls_item in enumerate(data__oidclogout__backchannellogouturls):
                            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_httpsurl(data__oidclogout__backchannellogouturls_item, custom_formats, name_prefix)
                if "backchannel_logout_initiators" in data__oidclogout_keys:
                    data__oidclogout_keys.remove("backchannel_logout_initiators")
                    data__oidclogout__backchannellogoutinitiators = data__oidclogout["backchannel_logout_initiators"]
                    if not isinstance(data__oidclogout__backchannellogoutinitiators, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators must be object")
                    data__oidclogout__backchannellogoutinitiators_is_dict = isinstance(data__oidclogout__backchannellogoutinitiators, dict)
                    if data__oidclogout__backchannellogoutinitiators_is_dict:
                        data__oidclogout__backchannellogoutinitiators__missing_keys = set(['mode']) - data__oidclogout__backchannellogoutinitiators.keys()
                        if data__oidclogout__backchannellogoutinitiators__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators must contain ")
                        data__oidclogout__backchannellogoutinitiators_keys = set(data__oidclogout__backchannellogoutinitiators.keys())
                        if "mode" in data__oidclogout__backchannellogoutinitiators_keys:
                            data__oidclogout__backchannellogoutinitiators_keys.remove("mode")
                            data__oidclogout__backchannellogoutinitiators__mode = data__oidclogout__backchannellogoutinitiators["mode"]
                            if not (isinstance(data__oidclogout__backchannellogoutinitiators__mode, str) and data__oidclogout__backchannellogoutinitiators__mode == 'custom' or isinstance(data__oidclogout__backchannellogoutinitiators__mode, str) and data__oidclogout__backchannellogoutinitiators__mode == 'all'):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators.mode must be one of ['custom', 'all']")
                        if "selected_initiators" in data__oidclogout__backchannellogoutinitiators_keys:
                            data__oidclogout__backchannellogoutinitiators_keys.remove("selected_initiators")
                            data__oidclogout__backchannellogoutinitiators__selectedinitiators = data__oidclogout__backchannellogoutinitiators["selected_initiators"]
                            if not isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators, (list, tuple)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators.selected_initiators must be array")
                            data__oidclogout__backchannellogoutinitiators__selectedinitiators_is_list = isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators, (list, tuple))
                            if data__oidclogout__backchannellogoutinitiators__selectedinitiators_is_list:
                                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                                data__oidclogout__backchannellogoutinitiators__selectedinitiators_len = len(data__oidclogout__backchannellogoutinitiators__selectedinitiators)
                                if data__oidclogout__backchannellogoutinitiators__selectedinitiators_len > len(set(fn(data__oidclogout__backchannellogoutinitiators__selectedinitiators_x) for data__oidclogout__backchannellogoutinitiators__selectedinitiators_x in data__oidclogout__backchannellogoutinitiators__selectedinitiators)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators.selected_initiators must contain unique items")
                                for data__oidclogout__backchannellogoutinitiators__selectedinitiators_x, data__oidclogout__backchannellogoutinitiators__selectedinitiators_item in enumerate(data__oidclogout__backchannellogoutinitiators__selectedinitiators):
                                    if not (isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'rp-logout' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'idp-logout' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'password-changed' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'session-expired' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'session-revoked' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'account-deleted' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'email-identifier-changed' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'mfa-phone-unenrolled' or isinstance(data__oidclogout__backchannellogoutinitiators__selectedinitiators_item, str) and data__oidclogout__backchannellogoutinitiators__selectedinitiators_item == 'account-deactivated'):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators.selected_initiators[{data__oidclogout__backchannellogoutinitiators__selectedinitiators_x}]".format(**locals()) + " must be one of ['rp-logout', 'idp-logout', 'password-changed', 'session-expired', 'session-revoked', 'account-deleted', 'email-identifier-changed', 'mfa-phone-unenrolled', 'account-deactivated']")
                        if data__oidclogout__backchannellogoutinitiators_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_initiators must not contain "+str(data__oidclogout__backchannellogoutinitiators_keys)+" properties")
                if "backchannel_logout_session_metadata" in data__oidclogout_keys:
                    data__oidclogout_keys.remove("backchannel_logout_session_metadata")
                    data__oidclogout__backchannellogoutsessionmetadata = data__oidclogout["backchannel_logout_session_metadata"]
                    if not isinstance(data__oidclogout__backchannellogoutsessionmetadata, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_session_metadata must be object")
                    data__oidclogout__backchannellogoutsessionmetadata_is_dict = isinstance(data__oidclogout__backchannellogoutsessionmetadata, dict)
                    if data__oidclogout__backchannellogoutsessionmetadata_is_dict:
                        data__oidclogout__backchannellogoutsessionmetadata__missing_keys = set(['include']) - data__oidclogout__backchannellogoutsessionmetadata.keys()
                        if data__oidclogout__backchannellogoutsessionmetadata__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_session_metadata must contain ")
                        data__oidclogout__backchannellogoutsessionmetadata_keys = set(data__oidclogout__backchannellogoutsessionmetadata.keys())
                        if "include" in data__oidclogout__backchannellogoutsessionmetadata_keys:
                            data__oidclogout__backchannellogoutsessionmetadata_keys.remove("include")
                            data__oidclogout__backchannellogoutsessionmetadata__include = data__oidclogout__backchannellogoutsessionmetadata["include"]
                            if not isinstance(data__oidclogout__backchannellogoutsessionmetadata__include, (bool)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_session_metadata.include must be boolean")
                        if data__oidclogout__backchannellogoutsessionmetadata_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout.backchannel_logout_session_metadata must not contain "+str(data__oidclogout__backchannellogoutsessionmetadata_keys)+" properties")
                if data__oidclogout_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".oidc_logout must not contain "+str(data__oidclogout_keys)+" properties")
        if "mobile" in data_keys:
            data_keys.remove("mobile")
            data__mobile = data["mobile"]
            if not isinstance(data__mobile, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile must be object")
            data__mobile_is_dict = isinstance(data__mobile, dict)
            if data__mobile_is_dict:
                data__mobile_keys = set(data__mobile.keys())
                if "android" in data__mobile_keys:
                    data__mobile_keys.remove("android")
                    data__mobile__android = data__mobile["android"]
                    if not isinstance(data__mobile__android, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android must be object")
                    data__mobile__android_is_dict = isinstance(data__mobile__android, dict)
                    if data__mobile__android_is_dict:
                        data__mobile__android_keys = set(data__mobile__android.keys())
                        if "app_package_name" in data__mobile__android_keys:
                            data__mobile__android_keys.remove("app_package_name")
                            data__mobile__android__apppackagename = data__mobile__android["app_package_name"]
                            if not isinstance(data__mobile__android__apppackagename, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.app_package_name must be string")
                            if isinstance(data__mobile__android__apppackagename, str):
                                data__mobile__android__apppackagename_len = len(data__mobile__android__apppackagename)
                                if data__mobile__android__apppackagename_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.app_package_name must be longer than or equal to 1 characters")
                        if "sha256_cert_fingerprints" in data__mobile__android_keys:
                            data__mobile__android_keys.remove("sha256_cert_fingerprints")
                            data__mobile__android__sha256certfingerprints = data__mobile__android["sha256_cert_fingerprints"]
                            if not isinstance(data__mobile__android__sha256certfingerprints, (list, tuple)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.sha256_cert_fingerprints must be array")
                            data__mobile__android__sha256certfingerprints_is_list = isinstance(data__mobile__android__sha256certfingerprints, (list, tuple))
                            if data__mobile__android__sha256certfingerprints_is_list:
                                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                                data__mobile__android__sha256certfingerprints_len = len(data__mobile__android__sha256certfingerprints)
                                if data__mobile__android__sha256certfingerprints_len > len(set(fn(data__mobile__android__sha256certfingerprints_x) for data__mobile__android__sha256certfingerprints_x in data__mobile__android__sha256certfingerprints)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.sha256_cert_fingerprints must contain unique items")
                                for data__mobile__android__sha256certfingerprints_x, data__mobile__android__sha256certfingerprints_item in enumerate(data__mobile__android__sha256certfingerprints):
                                    if not isinstance(data__mobile__android__sha256certfingerprints_item, (str)):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.sha256_cert_fingerprints[{data__mobile__android__sha256certfingerprints_x}]".format(**locals()) + " must be string")
                                    if isinstance(data__mobile__android__sha256certfingerprints_item, str):
                                        data__mobile__android__sha256certfingerprints_item_len = len(data__mobile__android__sha256certfingerprints_item)
                                        if data__mobile__android__sha256certfingerprints_item_len < 1:
                                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android.sha256_cert_fingerprints[{data__mobile__android__sha256certfingerprints_x}]".format(**locals()) + " must be longer than or equal to 1 characters")
                        if data__mobile__android_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.android must not contain "+str(data__mobile__android_keys)+" properties")
                if "ios" in data__mobile_keys:
                    data__mobile_keys.remove("ios")
                    data__mobile__ios = data__mobile["ios"]
                    if not isinstance(data__mobile__ios, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios must be object")
                    data__mobile__ios_is_dict = isinstance(data__mobile__ios, dict)
                    if data__mobile__ios_is_dict:
                        data__mobile__ios_keys = set(data__mobile__ios.keys())
                        if "team_id" in data__mobile__ios_keys:
                            data__mobile__ios_keys.remove("team_id")
                            data__mobile__ios__teamid = data__mobile__ios["team_id"]
                            if not isinstance(data__mobile__ios__teamid, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios.team_id must be string")
                            if isinstance(data__mobile__ios__teamid, str):
                                data__mobile__ios__teamid_len = len(data__mobile__ios__teamid)
                                if data__mobile__ios__teamid_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios.team_id must be longer than or equal to 1 characters")
                        if "app_bundle_identifier" in data__mobile__ios_keys:
                            data__mobile__ios_keys.remove("app_bundle_identifier")
                            data__mobile__ios__appbundleidentifier = data__mobile__ios["app_bundle_identifier"]
                            if not isinstance(data__mobile__ios__appbundleidentifier, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios.app_bundle_identifier must be string")
                            if isinstance(data__mobile__ios__appbundleidentifier, str):
                                data__mobile__ios__appbundleidentifier_len = len(data__mobile__ios__appbundleidentifier)
                                if data__mobile__ios__appbundleidentifier_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios.app_bundle_identifier must be longer than or equal to 1 characters")
                        if data__mobile__ios_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile.ios must not contain "+str(data__mobile__ios_keys)+" properties")
                if data__mobile_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".mobile must not contain "+str(data__mobile_keys)+" properties")
        if "native_social_login" in data_keys:
            data_keys.remove("native_social_login")
            data__nativesociallogin = data["native_social_login"]
            if not isinstance(data__nativesociallogin, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login must be object")
            data__nativesociallogin_is_dict = isinstance(data__nativesociallogin, dict)
            if data__nativesociallogin_is_dict:
                data__nativesociallogin_keys = set(data__nativesociallogin.keys())
                if "apple" in data__nativesociallogin_keys:
                    data__nativesociallogin_keys.remove("apple")
                    data__nativesociallogin__apple = data__nativesociallogin["apple"]
                    if not isinstance(data__nativesociallogin__apple, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.apple must be object")
                    data__nativesociallogin__apple_is_dict = isinstance(data__nativesociallogin__apple, dict)
                    if data__nativesociallogin__apple_is_dict:
                        data__nativesociallogin__apple_keys = set(data__nativesociallogin__apple.keys())
                        if "enabled" in data__nativesociallogin__apple_keys:
                            data__nativesociallogin__apple_keys.remove("enabled")
                            data__nativesociallogin__apple__enabled = data__nativesociallogin__apple["enabled"]
                            if not isinstance(data__nativesociallogin__apple__enabled, (bool)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.apple.enabled must be boolean")
                        if data__nativesociallogin__apple_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.apple must not contain "+str(data__nativesociallogin__apple_keys)+" properties")
                if "facebook" in data__nativesociallogin_keys:
                    data__nativesociallogin_keys.remove("facebook")
                    data__nativesociallogin__facebook = data__nativesociallogin["facebook"]
                    if not isinstance(data__nativesociallogin__facebook, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.facebook must be object")
                    data__nativesociallogin__facebook_is_dict = isinstance(data__nativesociallogin__facebook, dict)
                    if data__nativesociallogin__facebook_is_dict:
                        data__nativesociallogin__facebook_keys = set(data__nativesociallogin__facebook.keys())
                        if "enabled" in data__nativesociallogin__facebook_keys:
                            data__nativesociallogin__facebook_keys.remove("enabled")
                            data__nativesociallogin__facebook__enabled = data__nativesociallogin__facebook["enabled"]
                            if not isinstance(data__nativesociallogin__facebook__enabled, (bool)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.facebook.enabled must be boolean")
                        if data__nativesociallogin__facebook_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.facebook must not contain "+str(data__nativesociallogin__facebook_keys)+" properties")
                if "google" in data__nativesociallogin_keys:
                    data__nativesociallogin_keys.remove("google")
                    data__nativesociallogin__google = data__nativesociallogin["google"]
                    if not isinstance(data__nativesociallogin__google, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.google must be object")
                    data__nativesociallogin__google_is_dict = isinstance(data__nativesociallogin__google, dict)
                    if data__nativesociallogin__google_is_dict:
                        data__nativesociallogin__google_keys = set(data__nativesociallogin__google.keys())
                        if "enabled" in data__nativesociallogin__google_keys:
                            data__nativesociallogin__google_keys.remove("enabled")
                            data__nativesociallogin__google__enabled = data__nativesociallogin__google["enabled"]
                            if not isinstance(data__nativesociallogin__google__enabled, (bool)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.google.enabled must be boolean")
                        if data__nativesociallogin__google_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login.google must not contain "+str(data__nativesociallogin__google_keys)+" properties")
                if data__nativesociallogin_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".native_social_login must not contain "+str(data__nativesociallogin_keys)+" properties")
        if "require_pushed_authorization_requests" in data_keys:
            data_keys.remove("require_pushed_authorization_requests")
            data__requirepushedauthorizationrequests = data["require_pushed_authorization_requests"]
            if not isinstance(data__requirepushedauthorizationrequests, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".require_pushed_authorization_requests must be boolean")
        if "require_proof_of_possession" in data_keys:
            data_keys.remove("require_proof_of_possession")
            data__requireproofofpossession = data["require_proof_of_possession"]
            if not isinstance(data__requireproofofpossession, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".require_proof_of_possession must be boolean")
        if "signed_request_object" in data_keys:
            data_keys.remove("signed_request_object")
            data__signedrequestobject = data["signed_request_object"]
            if not isinstance(data__signedrequestobject, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".signed_request_object must be object")
            data__signedrequestobject_is_dict = isinstance(data__signedrequestobject, dict)
            if data__signedrequestobject_is_dict:
                data__signedrequestobject_keys = set(data__signedrequestobject.keys())
                if "required" in data__signedrequestobject_keys:
                    data__signedrequestobject_keys.remove("required")
                    data__signedrequestobject__required = data__signedrequestobject["required"]
                    if not isinstance(data__signedrequestobject__required, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".signed_request_object.required must be boolean")
                if "credentials" in data__signedrequestobject_keys:
                    data__signedrequestobject_keys.remove("credentials")
                    data__signedrequestobject__credentials = data__signedrequestobject["credentials"]
                    if not isinstance(data__signedrequestobject__credentials, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".signed_request_object.credentials must be array")
                    data__signedrequestobject__credentials_is_list = isinstance(data__signedrequestobject__credentials, (list, tuple))
                    if data__signedrequestobject__credentials_is_list:
                        data__signedrequestobject__credentials_len = len(data__signedrequestobject__credentials)
                        for data__signedrequestobject__credentials_x, data__signedrequestobject__credentials_item in enumerate(data__signedrequestobject__credentials):
                            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_credential(data__signedrequestobject__credentials_item, custom_formats, name_prefix)
                if data__signedrequestobject_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".signed_request_object must not contain "+str(data__signedrequestobject_keys)+" properties")
        if "compliance_level" in data_keys:
            data_keys.remove("compliance_level")
            data__compliancelevel = data["compliance_level"]
            if not (isinstance(data__compliancelevel, str) and data__compliancelevel == 'none' or isinstance(data__compliancelevel, str) and data__compliancelevel == 'fapi1_adv_pkj_par' or isinstance(data__compliancelevel, str) and data__compliancelevel == 'fapi1_adv_mtls_par' or isinstance(data__compliancelevel, str) and data__compliancelevel == 'fapi2_sp_pkj_mtls' or isinstance(data__compliancelevel, str) and data__compliancelevel == 'fapi2_sp_mtls_mtls'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".compliance_level must be one of ['none', 'fapi1_adv_pkj_par', 'fapi1_adv_mtls_par', 'fapi2_sp_pkj_mtls', 'fapi2_sp_mtls_mtls']")
        if "token_exchange" in data_keys:
            data_keys.remove("token_exchange")
            data__tokenexchange = data["token_exchange"]
            if not isinstance(data__tokenexchange, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange must be object")
            data__tokenexchange_is_dict = isinstance(data__tokenexchange, dict)
            if data__tokenexchange_is_dict:
                data__tokenexchange__missing_keys = set(['allow_any_profile_of_type']) - data__tokenexchange.keys()
                if data__tokenexchange__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange must contain ")
                data__tokenexchange_keys = set(data__tokenexchange.keys())
                if "allow_any_profile_of_type" in data__tokenexchange_keys:
                    data__tokenexchange_keys.remove("allow_any_profile_of_type")
                    data__tokenexchange__allowanyprofileoftype = data__tokenexchange["allow_any_profile_of_type"]
                    if not isinstance(data__tokenexchange__allowanyprofileoftype, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange.allow_any_profile_of_type must be array")
                    data__tokenexchange__allowanyprofileoftype_is_list = isinstance(data__tokenexchange__allowanyprofileoftype, (list, tuple))
                    if data__tokenexchange__allowanyprofileoftype_is_list:
                        def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                        data__tokenexchange__allowanyprofileoftype_len = len(data__tokenexchange__allowanyprofileoftype)
                        if data__tokenexchange__allowanyprofileoftype_len > len(set(fn(data__tokenexchange__allowanyprofileoftype_x) for data__tokenexchange__allowanyprofileoftype_x in data__tokenexchange__allowanyprofileoftype)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange.allow_any_profile_of_type must contain unique items")
                        for data__tokenexchange__allowanyprofileoftype_x, data__tokenexchange__allowanyprofileoftype_item in enumerate(data__tokenexchange__allowanyprofileoftype):
                            if not (isinstance(data__tokenexchange__allowanyprofileoftype_item, str) and data__tokenexchange__allowanyprofileoftype_item == 'custom_authentication' or isinstance(data__tokenexchange__allowanyprofileoftype_item, str) and data__tokenexchange__allowanyprofileoftype_item == 'on_behalf_of_token_exchange'):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange.allow_any_profile_of_type[{data__tokenexchange__allowanyprofileoftype_x}]".format(**locals()) + " must be one of ['custom_authentication', 'on_behalf_of_token_exchange']")
                if data__tokenexchange_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_exchange must not contain "+str(data__tokenexchange_keys)+" properties")
        if "allowed_clients" in data_keys:
            data_keys.remove("allowed_clients")
            data__allowedclients = data["allowed_clients"]
            if not isinstance(data__allowedclients, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allowed_clients must be array")
            data__allowedclients_is_list = isinstance(data__allowedclients, (list, tuple))
            if data__allowedclients_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__allowedclients_len = len(data__allowedclients)
                if data__allowedclients_len > len(set(fn(data__allowedclients_x) for data__allowedclients_x in data__allowedclients)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".allowed_clients must contain unique items")
                for data__allowedclients_x, data__allowedclients_item in enumerate(data__allowedclients):
                    if not isinstance(data__allowedclients_item, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".allowed_clients[{data__allowedclients_x}]".format(**locals()) + " must be string")
                    if isinstance(data__allowedclients_item, str):
                        data__allowedclients_item_len = len(data__allowedclients_item)
                        if data__allowedclients_item_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".allowed_clients[{data__allowedclients_x}]".format(**locals()) + " must be longer than or equal to 1 characters")
        if "metadata" in data_keys:
            data_keys.remove("metadata")
            data__metadata = data["metadata"]
            if not isinstance(data__metadata, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".metadata must be object")
            data__metadata_is_dict = isinstance(data__metadata, dict)
            if data__metadata_is_dict:
                data__metadata_keys = set(data__metadata.keys())
                for data__metadata_key in data__metadata_keys:
                    if data__metadata_key not in []:
                        data__metadata_value = data__metadata.get(data__metadata_key)
                        if not isinstance(data__metadata_value, (str)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".metadata.{data__metadata_key}".format(**locals()) + " must be string")
        if "apis" in data_keys:
            data_keys.remove("apis")
            data__apis = data["apis"]
            if not isinstance(data__apis, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".apis must be array")
            data__apis_is_list = isinstance(data__apis, (list, tuple))
            if data__apis_is_list:
                data__apis_len = len(data__apis)
                for data__apis_x, data__apis_item in enumerate(data__apis):
                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_apigrant(data__apis_item, custom_formats, name_prefix)
        if "connections" in data_keys:
            data_keys.remove("connections")
            data__connections = data["connections"]
            if not isinstance(data__connections, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".connections must be array")
            data__connections_is_list = isinstance(data__connections, (list, tuple))
            if data__connections_is_list:
                data__connections_len = len(data__connections)
                for data__connections_x, data__connections_item in enumerate(data__connections):
                    if not isinstance(data__connections_item, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".connections[{data__connections_x}]".format(**locals()) + " must be string")
                    if isinstance(data__connections_item, str):
                        data__connections_item_len = len(data__connections_item)
                        if data__connections_item_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".connections[{data__connections_x}]".format(**locals()) + " must be longer than or equal to 1 characters")
                        if data__connections_item_len > 128:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".connections[{data__connections_x}]".format(**locals()) + " must be shorter than or equal to 128 characters")
                        if not REGEX_PATTERNS['^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$'].search(data__connections_item):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".connections[{data__connections_x}]".format(**locals()) + " must match pattern ^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$")
        if "credentials" in data_keys:
            data_keys.remove("credentials")
            data__credentials = data["credentials"]
            if not isinstance(data__credentials, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".credentials must be array")
            data__credentials_is_list = isinstance(data__credentials, (list, tuple))
            if data__credentials_is_list:
                data__credentials_len = len(data__credentials)
                for data__credentials_x, data__credentials_item in enumerate(data__credentials):
                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_credential(data__credentials_item, custom_formats, name_prefix)
        if "client_id" in data_keys:
            data_keys.remove("client_id")
            data__clientid = data["client_id"]
            if not isinstance(data__clientid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".client_id must be string")
            if isinstance(data__clientid, str):
                data__clientid_len = len(data__clientid)
                if data__clientid_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".client_id must be longer than or equal to 1 characters")
        if "cimd" in data_keys:
            data_keys.remove("cimd")
            data__cimd = data["cimd"]
            if not isinstance(data__cimd, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd must be string")
            if isinstance(data__cimd, str):
                data__cimd_len = len(data__cimd)
                if data__cimd_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd must be longer than or equal to 1 characters")
        if "protect" in data_keys:
            data_keys.remove("protect")
            data__protect = data["protect"]
            if not isinstance(data__protect, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".protect must be boolean")
        if "allow_legacy_grants" in data_keys:
            data_keys.remove("allow_legacy_grants")
            data__allowlegacygrants = data["allow_legacy_grants"]
            if not isinstance(data__allowlegacygrants, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".allow_legacy_grants must be boolean")
        if "legacy_grants_reason" in data_keys:
            data_keys.remove("legacy_grants_reason")
            data__legacygrantsreason = data["legacy_grants_reason"]
            if not isinstance(data__legacygrantsreason, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".legacy_grants_reason must be string")
            if isinstance(data__legacygrantsreason, str):
                data__legacygrantsreason_len = len(data__legacygrantsreason)
                if data__legacygrantsreason_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".legacy_grants_reason must be longer than or equal to 1 characters")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['cimd']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['name', 'type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
    else:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'native' or isinstance(data__type, str) and data__type == 'spa' or isinstance(data__type, str) and data__type == 'regular_web'):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".type must be one of ['native', 'spa', 'regular_web']")
            if "grant_types" in data_keys:
                data_keys.remove("grant_types")
                data__granttypes = data["grant_types"]
                data__granttypes_is_list = isinstance(data__granttypes, (list, tuple))
                if data__granttypes_is_list:
                    data__granttypes_len = len(data__granttypes)
                    for data__granttypes_x, data__granttypes_item in enumerate(data__granttypes):
                        if not (isinstance(data__granttypes_item, str) and data__granttypes_item == 'authorization_code' or isinstance(data__granttypes_item, str) and data__granttypes_item == 'refresh_token'):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".grant_types[{data__granttypes_x}]".format(**locals()) + " must be one of ['authorization_code', 'refresh_token']")
            data_len = len(data)
            if data_len != 0:
                data_property_names = True
                for data_key in data:
                    try:
                        if not (isinstance(data_key, str) and data_key == 'cimd' or isinstance(data_key, str) and data_key == 'type' or isinstance(data_key, str) and data_key == 'grant_types' or isinstance(data_key, str) and data_key == 'description' or isinstance(data_key, str) and data_key == 'allowed_origins' or isinstance(data_key, str) and data_key == 'web_origins' or isinstance(data_key, str) and data_key == 'refresh_token' or isinstance(data_key, str) and data_key == 'jwt_configuration' or isinstance(data_key, str) and data_key == 'organization_usage' or isinstance(data_key, str) and data_key == 'organization_require_behavior' or isinstance(data_key, str) and data_key == 'organization_discovery_methods' or isinstance(data_key, str) and data_key == 'default_organization' or isinstance(data_key, str) and data_key == 'require_proof_of_possession' or isinstance(data_key, str) and data_key == 'metadata' or isinstance(data_key, str) and data_key == 'apis' or isinstance(data_key, str) and data_key == 'connections' or isinstance(data_key, str) and data_key == 'protect'):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['cimd', 'type', 'grant_types', 'description', 'allowed_origins', 'web_origins', 'refresh_token', 'jwt_configuration', 'organization_usage', 'organization_require_behavior', 'organization_discovery_methods', 'default_organization', 'require_proof_of_possession', 'metadata', 'apis', 'connections', 'protect']")
                    except (JsonSchemaValueException, JsonSchemaValuesException):
                        data_property_names = False
                if not data_property_names:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must be named by propertyName definition")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_credential(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_one_of_count1 = 0
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['public_key_file']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['pem']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['subject_dn']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
            data_one_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count1 != 1:
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be valid exactly by one definition")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be string")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be longer than or equal to 1 characters")
                if data__name_len > 128:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".name must be shorter than or equal to 128 characters")
        if "public_key_file" in data_keys:
            data_keys.remove("public_key_file")
            data__publickeyfile = data["public_key_file"]
            if not isinstance(data__publickeyfile, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".public_key_file must be string")
            if isinstance(data__publickeyfile, str):
                data__publickeyfile_len = len(data__publickeyfile)
                if data__publickeyfile_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".public_key_file must be longer than or equal to 1 characters")
        if "pem" in data_keys:
            data_keys.remove("pem")
            data__pem = data["pem"]
            if not isinstance(data__pem, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".pem must be string")
            if isinstance(data__pem, str):
                data__pem_len = len(data__pem)
                if data__pem_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".pem must be longer than or equal to 1 characters")
        if "subject_dn" in data_keys:
            data_keys.remove("subject_dn")
            data__subjectdn = data["subject_dn"]
            if not isinstance(data__subjectdn, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".subject_dn must be string")
            if isinstance(data__subjectdn, str):
                data__subjectdn_len = len(data__subjectdn)
                if data__subjectdn_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".subject_dn must be longer than or equal to 1 characters")
                if data__subjectdn_len > 256:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".subject_dn must be shorter than or equal to 256 characters")
        if "alg" in data_keys:
            data_keys.remove("alg")
            data__alg = data["alg"]
            if not (isinstance(data__alg, str) and data__alg == 'RS256' or isinstance(data__alg, str) and data__alg == 'RS384' or isinstance(data__alg, str) and data__alg == 'PS256'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".alg must be one of ['RS256', 'RS384', 'PS256']")
        if "kid" in data_keys:
            data_keys.remove("kid")
            data__kid = data["kid"]
            if not isinstance(data__kid, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".kid must be string")
            if isinstance(data__kid, str):
                if not REGEX_PATTERNS['^[0-9a-zA-Z_-]{10,64}$'].search(data__kid):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".kid must match pattern ^[0-9a-zA-Z_-]{10,64}$")
        if "expires_at" in data_keys:
            data_keys.remove("expires_at")
            data__expiresat = data["expires_at"]
            if not isinstance(data__expiresat, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".expires_at must be string")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_httpsurl(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        data_len = len(data)
        if data_len < 1:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be longer than or equal to 1 characters")
        if data_len > 2048:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be shorter than or equal to 2048 characters")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_jwtconfiguration(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "lifetime_in_seconds" in data_keys:
            data_keys.remove("lifetime_in_seconds")
            data__lifetimeinseconds = data["lifetime_in_seconds"]
            if not isinstance(data__lifetimeinseconds, (int)) and not (isinstance(data__lifetimeinseconds, float) and data__lifetimeinseconds.is_integer()) or isinstance(data__lifetimeinseconds, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".lifetime_in_seconds must be integer")
            if isinstance(data__lifetimeinseconds, (int, float, Decimal)) and not isinstance(data__lifetimeinseconds, bool):
                if data__lifetimeinseconds < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".lifetime_in_seconds must be bigger than or equal to 1")
        if "alg" in data_keys:
            data_keys.remove("alg")
            data__alg = data["alg"]
            if not (isinstance(data__alg, str) and data__alg == 'HS256' or isinstance(data__alg, str) and data__alg == 'RS256' or isinstance(data__alg, str) and data__alg == 'RS512' or isinstance(data__alg, str) and data__alg == 'PS256'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".alg must be one of ['HS256', 'RS256', 'RS512', 'PS256']")
        if "scopes" in data_keys:
            data_keys.remove("scopes")
            data__scopes = data["scopes"]
            if not isinstance(data__scopes, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".scopes must be object")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_refreshtoken(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "rotation_type" in data_keys:
            data_keys.remove("rotation_type")
            data__rotationtype = data["rotation_type"]
            if not (isinstance(data__rotationtype, str) and data__rotationtype == 'rotating' or isinstance(data__rotationtype, str) and data__rotationtype == 'non-rotating'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".rotation_type must be one of ['rotating', 'non-rotating']")
        if "expiration_type" in data_keys:
            data_keys.remove("expiration_type")
            data__expirationtype = data["expiration_type"]
            if not (isinstance(data__expirationtype, str) and data__expirationtype == 'expiring' or isinstance(data__expirationtype, str) and data__expirationtype == 'non-expiring'):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".expiration_type must be one of ['expiring', 'non-expiring']")
        if "leeway" in data_keys:
            data_keys.remove("leeway")
            data__leeway = data["leeway"]
            if not isinstance(data__leeway, (int)) and not (isinstance(data__leeway, float) and data__leeway.is_integer()) or isinstance(data__leeway, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".leeway must be integer")
            if isinstance(data__leeway, (int, float, Decimal)) and not isinstance(data__leeway, bool):
                if data__leeway < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".leeway must be bigger than or equal to 0")
        if "token_lifetime" in data_keys:
            data_keys.remove("token_lifetime")
            data__tokenlifetime = data["token_lifetime"]
            if not isinstance(data__tokenlifetime, (int)) and not (isinstance(data__tokenlifetime, float) and data__tokenlifetime.is_integer()) or isinstance(data__tokenlifetime, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_lifetime must be integer")
            if isinstance(data__tokenlifetime, (int, float, Decimal)) and not isinstance(data__tokenlifetime, bool):
                if data__tokenlifetime < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".token_lifetime must be bigger than or equal to 1")
        if "idle_token_lifetime" in data_keys:
            data_keys.remove("idle_token_lifetime")
            data__idletokenlifetime = data["idle_token_lifetime"]
            if not isinstance(data__idletokenlifetime, (int)) and not (isinstance(data__idletokenlifetime, float) and data__idletokenlifetime.is_integer()) or isinstance(data__idletokenlifetime, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".idle_token_lifetime must be integer")
            if isinstance(data__idletokenlifetime, (int, float, Decimal)) and not isinstance(data__idletokenlifetime, bool):
                if data__idletokenlifetime < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".idle_token_lifetime must be bigger than or equal to 1")
        if "infinite_token_lifetime" in data_keys:
            data_keys.remove("infinite_token_lifetime")
            data__infinitetokenlifetime = data["infinite_token_lifetime"]
            if not isinstance(data__infinitetokenlifetime, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".infinite_token_lifetime must be boolean")
        if "infinite_idle_token_lifetime" in data_keys:
            data_keys.remove("infinite_idle_token_lifetime")
            data__infiniteidletokenlifetime = data["infinite_idle_token_lifetime"]
            if not isinstance(data__infiniteidletokenlifetime, (bool)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".infinite_idle_token_lifetime must be boolean")
        if "policies" in data_keys:
            data_keys.remove("policies")
            data__policies = data["policies"]
            if not isinstance(data__policies, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies must be array")
            data__policies_is_list = isinstance(data__policies, (list, tuple))
            if data__policies_is_list:
                data__policies_len = len(data__policies)
                for data__policies_x, data__policies_item in enumerate(data__policies):
                    if not isinstance(data__policies_item, (dict)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}]".format(**locals()) + " must be object")
                    data__policies_item_is_dict = isinstance(data__policies_item, dict)
                    if data__policies_item_is_dict:
                        data__policies_item__missing_keys = set(['audience', 'scope']) - data__policies_item.keys()
                        if data__policies_item__missing_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}]".format(**locals()) + " must contain ")
                        data__policies_item_keys = set(data__policies_item.keys())
                        if "audience" in data__policies_item_keys:
                            data__policies_item_keys.remove("audience")
                            data__policies_item__audience = data__policies_item["audience"]
                            if not isinstance(data__policies_item__audience, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}].audience".format(**locals()) + " must be string")
                            if isinstance(data__policies_item__audience, str):
                                data__policies_item__audience_len = len(data__policies_item__audience)
                                if data__policies_item__audience_len < 1:
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}].audience".format(**locals()) + " must be longer than or equal to 1 characters")
                        if "scope" in data__policies_item_keys:
                            data__policies_item_keys.remove("scope")
                            data__policies_item__scope = data__policies_item["scope"]
                            if not isinstance(data__policies_item__scope, (list, tuple)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}].scope".format(**locals()) + " must be array")
                            data__policies_item__scope_is_list = isinstance(data__policies_item__scope, (list, tuple))
                            if data__policies_item__scope_is_list:
                                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                                data__policies_item__scope_len = len(data__policies_item__scope)
                                if data__policies_item__scope_len > len(set(fn(data__policies_item__scope_x) for data__policies_item__scope_x in data__policies_item__scope)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}].scope".format(**locals()) + " must contain unique items")
                                for data__policies_item__scope_x, data__policies_item__scope_item in enumerate(data__policies_item__scope):
                                    validate_https___reconciler_dev_schemas_manifest_schema_json___defs_scope(data__policies_item__scope_item, custom_formats, name_prefix)
                        if data__policies_item_keys:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".policies[{data__policies_x}]".format(**locals()) + " must not contain "+str(data__policies_item_keys)+" properties")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_granttype(data, custom_formats={}, name_prefix=None):
    if not (isinstance(data, str) and data == 'authorization_code' or isinstance(data, str) and data == 'implicit' or isinstance(data, str) and data == 'refresh_token' or isinstance(data, str) and data == 'client_credentials' or isinstance(data, str) and data == 'password' or isinstance(data, str) and data == 'http://auth0.com/oauth/grant-type/password-realm' or isinstance(data, str) and data == 'http://auth0.com/oauth/grant-type/mfa-oob' or isinstance(data, str) and data == 'http://auth0.com/oauth/grant-type/mfa-otp' or isinstance(data, str) and data == 'http://auth0.com/oauth/grant-type/mfa-recovery-code' or isinstance(data, str) and data == 'urn:openid:params:grant-type:ciba' or isinstance(data, str) and data == 'urn:ietf:params:oauth:grant-type:device_code' or isinstance(data, str) and data == 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token'):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be one of ['authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'password', 'http://auth0.com/oauth/grant-type/password-realm', 'http://auth0.com/oauth/grant-type/mfa-oob', 'http://auth0.com/oauth/grant-type/mfa-otp', 'http://auth0.com/oauth/grant-type/mfa-recovery-code', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token']")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        data_len = len(data)
        if data_len < 1:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be longer than or equal to 1 characters")
        if data_len > 2048:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must be shorter than or equal to 2048 characters")
    return data

def validate_https___reconciler_dev_schemas_manifest_schema_json___defs_urllist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be array")
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
        data_len = len(data)
        if data_len > len(set(fn(data_x) for data_x in data)):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain unique items")
        for data_x, data_item in enumerate(data):
            validate_https___reconciler_dev_schemas_manifest_schema_json___defs_url(data_item, custom_formats, name_prefix)
    return data


check = validate_https___reconciler_dev_schemas_manifest_schema_json
