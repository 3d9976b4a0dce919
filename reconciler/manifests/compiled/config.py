# Generated from schemas/config.schema.json by `python -m reconciler.manifests.schema_code`;
# do not edit: edit the schema and run it again.
# mypy: ignore-errors
VERSION = "2.22.3"
from decimal import Decimal
import re
from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException


REGEX_PATTERNS = {
    '^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}$': re.compile('^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}\\Z'),
    '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$': re.compile('^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\\Z'),
    '^(\\*\\.)?[A-Za-z0-9.-]+$': re.compile('^(\\*\\.)?[A-Za-z0-9.-]+\\Z'),
    '^[A-Za-z_][A-Za-z0-9_]*$': re.compile('^[A-Za-z_][A-Za-z0-9_]*\\Z'),
    '^(sqlite:|auth0://|dcr\\+https?://)': re.compile('^(sqlite:|auth0://|dcr\\+https?://)')
}

NoneType = type(None)

def validate_https___reconciler_dev_schemas_config_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['owner']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must contain ")
        data_keys = set(data.keys())
        if "owner" in data_keys:
            data_keys.remove("owner")
            data__owner = data["owner"]
            if not isinstance(data__owner, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".owner must be string")
            if isinstance(data__owner, str):
                if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}$'].search(data__owner):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".owner must match pattern ^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}$")
        if "manifests" in data_keys:
            data_keys.remove("manifests")
            data__manifests = data["manifests"]
            if not isinstance(data__manifests, (list, tuple)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".manifests must be array")
            data__manifests_is_list = isinstance(data__manifests, (list, tuple))
            if data__manifests_is_list:
                data__manifests_len = len(data__manifests)
                for data__manifests_x, data__manifests_item in enumerate(data__manifests):
                    if not isinstance(data__manifests_item, (str)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".manifests[{data__manifests_x}]".format(**locals()) + " must be string")
                    if isinstance(data__manifests_item, str):
                        data__manifests_item_len = len(data__manifests_item)
                        if data__manifests_item_len < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".manifests[{data__manifests_x}]".format(**locals()) + " must be longer than or equal to 1 characters")
        if "registry" in data_keys:
            data_keys.remove("registry")
            data__registry = data["registry"]
            validate_https___reconciler_dev_schemas_config_schema_json___defs_registry(data__registry, custom_formats, (name_prefix or "data") + ".registry")
        if "vars" in data_keys:
            data_keys.remove("vars")
            data__vars = data["vars"]
            validate_https___reconciler_dev_schemas_config_schema_json___defs_vars(data__vars, custom_formats, (name_prefix or "data") + ".vars")
        if "default_environment" in data_keys:
            data_keys.remove("default_environment")
            data__defaultenvironment = data["default_environment"]
            if not isinstance(data__defaultenvironment, (str)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_environment must be string")
            if isinstance(data__defaultenvironment, str):
                data__defaultenvironment_len = len(data__defaultenvironment)
                if data__defaultenvironment_len < 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".default_environment must be longer than or equal to 1 characters")
        if "environments" in data_keys:
            data_keys.remove("environments")
            data__environments = data["environments"]
            if not isinstance(data__environments, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments must be object")
            data__environments_is_dict = isinstance(data__environments, dict)
            if data__environments_is_dict:
                data__environments_keys = set(data__environments.keys())
                for data__environments_key in data__environments_keys:
                    if data__environments_key not in []:
                        data__environments_value = data__environments.get(data__environments_key)
                        if not isinstance(data__environments_value, (dict)):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments.{data__environments_key}".format(**locals()) + " must be object")
                        data__environments_value_is_dict = isinstance(data__environments_value, dict)
                        if data__environments_value_is_dict:
                            data__environments_value_keys = set(data__environments_value.keys())
                            if "registry" in data__environments_value_keys:
                                data__environments_value_keys.remove("registry")
                                data__environments_value__registry = data__environments_value["registry"]
                                validate_https___reconciler_dev_schemas_config_schema_json___defs_registry(data__environments_value__registry, custom_formats, name_prefix)
                            if "owner" in data__environments_value_keys:
                                data__environments_value_keys.remove("owner")
                                data__environments_value__owner = data__environments_value["owner"]
                                if not isinstance(data__environments_value__owner, (str)):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments.{data__environments_key}.owner".format(**locals()) + " must be string")
                                if isinstance(data__environments_value__owner, str):
                                    if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}$'].search(data__environments_value__owner):
                                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments.{data__environments_key}.owner".format(**locals()) + " must match pattern ^[A-Za-z0-9][A-Za-z0-9:/@+=_-]{0,99}$")
                            if "vars" in data__environments_value_keys:
                                data__environments_value_keys.remove("vars")
                                data__environments_value__vars = data__environments_value["vars"]
                                validate_https___reconciler_dev_schemas_config_schema_json___defs_vars(data__environments_value__vars, custom_formats, name_prefix)
                            if "safety" in data__environments_value_keys:
                                data__environments_value_keys.remove("safety")
                                data__environments_value__safety = data__environments_value["safety"]
                                validate_https___reconciler_dev_schemas_config_schema_json___defs_safety(data__environments_value__safety, custom_formats, name_prefix)
                            if data__environments_value_keys:
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments.{data__environments_key}".format(**locals()) + " must not contain "+str(data__environments_value_keys)+" properties")
                data__environments_len = len(data__environments)
                if data__environments_len != 0:
                    data__environments_property_names = True
                    for data__environments_key in data__environments:
                        try:
                            if isinstance(data__environments_key, str):
                                if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'].search(data__environments_key):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments must match pattern ^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__environments_property_names = False
                    if not data__environments_property_names:
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".environments must be named by propertyName definition")
        if "safety" in data_keys:
            data_keys.remove("safety")
            data__safety = data["safety"]
            validate_https___reconciler_dev_schemas_config_schema_json___defs_safety(data__safety, custom_formats, (name_prefix or "data") + ".safety")
        if "cimd" in data_keys:
            data_keys.remove("cimd")
            data__cimd = data["cimd"]
            if not isinstance(data__cimd, (dict)):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd must be object")
            data__cimd_is_dict = isinstance(data__cimd, dict)
            if data__cimd_is_dict:
                data__cimd_keys = set(data__cimd.keys())
                if "allow_domains" in data__cimd_keys:
                    data__cimd_keys.remove("allow_domains")
                    data__cimd__allowdomains = data__cimd["allow_domains"]
                    if not isinstance(data__cimd__allowdomains, (list, tuple)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.allow_domains must be array")
                    data__cimd__allowdomains_is_list = isinstance(data__cimd__allowdomains, (list, tuple))
                    if data__cimd__allowdomains_is_list:
                        data__cimd__allowdomains_len = len(data__cimd__allowdomains)
                        for data__cimd__allowdomains_x, data__cimd__allowdomains_item in enumerate(data__cimd__allowdomains):
                            if not isinstance(data__cimd__allowdomains_item, (str)):
                                raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.allow_domains[{data__cimd__allowdomains_x}]".format(**locals()) + " must be string")
                            if isinstance(data__cimd__allowdomains_item, str):
                                if not REGEX_PATTERNS['^(\\*\\.)?[A-Za-z0-9.-]+$'].search(data__cimd__allowdomains_item):
                                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.allow_domains[{data__cimd__allowdomains_x}]".format(**locals()) + " must match pattern ^(\\*\\.)?[A-Za-z0-9.-]+$")
                if "timeout_seconds" in data__cimd_keys:
                    data__cimd_keys.remove("timeout_seconds")
                    data__cimd__timeoutseconds = data__cimd["timeout_seconds"]
                    if not isinstance(data__cimd__timeoutseconds, (int, float, Decimal)) or isinstance(data__cimd__timeoutseconds, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.timeout_seconds must be number")
                    if isinstance(data__cimd__timeoutseconds, (int, float, Decimal)) and not isinstance(data__cimd__timeoutseconds, bool):
                        if data__cimd__timeoutseconds > 60:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.timeout_seconds must be smaller than or equal to 60")
                        if data__cimd__timeoutseconds <= 0:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.timeout_seconds must be bigger than 0")
                if "parallelism" in data__cimd_keys:
                    data__cimd_keys.remove("parallelism")
                    data__cimd__parallelism = data__cimd["parallelism"]
                    if not isinstance(data__cimd__parallelism, (int)) and not (isinstance(data__cimd__parallelism, float) and data__cimd__parallelism.is_integer()) or isinstance(data__cimd__parallelism, bool):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.parallelism must be integer")
                    if isinstance(data__cimd__parallelism, (int, float, Decimal)) and not isinstance(data__cimd__parallelism, bool):
                        if data__cimd__parallelism < 1:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.parallelism must be bigger than or equal to 1")
                        if data__cimd__parallelism > 64:
                            raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.parallelism must be smaller than or equal to 64")
                if "insecure_allow_loopback_for_tests" in data__cimd_keys:
                    data__cimd_keys.remove("insecure_allow_loopback_for_tests")
                    data__cimd__insecureallowloopbackfortests = data__cimd["insecure_allow_loopback_for_tests"]
                    if not isinstance(data__cimd__insecureallowloopbackfortests, (bool)):
                        raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd.insecure_allow_loopback_for_tests must be boolean")
                if data__cimd_keys:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".cimd must not contain "+str(data__cimd_keys)+" properties")
        if "max_manifest_bytes" in data_keys:
            data_keys.remove("max_manifest_bytes")
            data__maxmanifestbytes = data["max_manifest_bytes"]
            if not isinstance(data__maxmanifestbytes, (int)) and not (isinstance(data__maxmanifestbytes, float) and data__maxmanifestbytes.is_integer()) or isinstance(data__maxmanifestbytes, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_manifest_bytes must be integer")
            if isinstance(data__maxmanifestbytes, (int, float, Decimal)) and not isinstance(data__maxmanifestbytes, bool):
                if data__maxmanifestbytes < 1024:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_manifest_bytes must be bigger than or equal to 1024")
                if data__maxmanifestbytes > 67108864:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_manifest_bytes must be smaller than or equal to 67108864")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_config_schema_json___defs_safety(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "max_delete_fraction" in data_keys:
            data_keys.remove("max_delete_fraction")
            data__maxdeletefraction = data["max_delete_fraction"]
            if not isinstance(data__maxdeletefraction, (int, float, Decimal)) or isinstance(data__maxdeletefraction, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_delete_fraction must be number")
            if isinstance(data__maxdeletefraction, (int, float, Decimal)) and not isinstance(data__maxdeletefraction, bool):
                if data__maxdeletefraction < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_delete_fraction must be bigger than or equal to 0")
                if data__maxdeletefraction > 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_delete_fraction must be smaller than or equal to 1")
        if "max_update_fraction" in data_keys:
            data_keys.remove("max_update_fraction")
            data__maxupdatefraction = data["max_update_fraction"]
            if not isinstance(data__maxupdatefraction, (int, float, Decimal)) or isinstance(data__maxupdatefraction, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_update_fraction must be number")
            if isinstance(data__maxupdatefraction, (int, float, Decimal)) and not isinstance(data__maxupdatefraction, bool):
                if data__maxupdatefraction < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_update_fraction must be bigger than or equal to 0")
                if data__maxupdatefraction > 1:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".max_update_fraction must be smaller than or equal to 1")
        if "min_owned" in data_keys:
            data_keys.remove("min_owned")
            data__minowned = data["min_owned"]
            if not isinstance(data__minowned, (int)) and not (isinstance(data__minowned, float) and data__minowned.is_integer()) or isinstance(data__minowned, bool):
                raise JsonSchemaValueException("" + (name_prefix or "data") + ".min_owned must be integer")
            if isinstance(data__minowned, (int, float, Decimal)) and not isinstance(data__minowned, bool):
                if data__minowned < 0:
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".min_owned must be bigger than or equal to 0")
        if data_keys:
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must not contain "+str(data_keys)+" properties")
    return data

def validate_https___reconciler_dev_schemas_config_schema_json___defs_vars(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be object")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        for data_key in data_keys:
            if data_key not in []:
                data_value = data.get(data_key)
                if not isinstance(data_value, (str, int, float, Decimal, bool)):
                    raise JsonSchemaValueException("" + (name_prefix or "data") + ".{data_key}".format(**locals()) + " must be string or number or boolean")
        data_len = len(data)
        if data_len != 0:
            data_property_names = True
            for data_key in data:
                try:
                    if isinstance(data_key, str):
                        if not REGEX_PATTERNS['^[A-Za-z_][A-Za-z0-9_]*$'].search(data_key):
                            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern ^[A-Za-z_][A-Za-z0-9_]*$")
                except (JsonSchemaValueException, JsonSchemaValuesException):
                    data_property_names = False
            if not data_property_names:
                raise JsonSchemaValueException("" + (name_prefix or "data") + " must be named by propertyName definition")
    return data

def validate_https___reconciler_dev_schemas_config_schema_json___defs_registry(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("" + (name_prefix or "data") + " must be string")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^(sqlite:|auth0://|dcr\\+https?://)'].search(data):
            raise JsonSchemaValueException("" + (name_prefix or "data") + " must match pattern ^(sqlite:|auth0://|dcr\\+https?://)")
    return data


check = validate_https___reconciler_dev_schemas_config_schema_json
