"""moto server for the deploy rehearsal, with five bugs of moto 5.2.5's CloudFormation fixed so that the
rehearsal can submit the expanded template exactly as `sam deploy` would.

    python moto_server.py HOST PORT        (started by scripts/deploy-rehearsal.sh)

Each patch makes moto do what CloudFormation documents; none adds a feature moto lacks (resource types it
does not create and properties it drops stay gaps, which rehearse.py reports and checks from the template):

1. Number parameters. CloudFormation hands every parameter to Ref as a string ("when you use the parameter
   elsewhere in your template, for example with Ref, the parameter value becomes a string"); moto converts
   Number parameters to int/float, so `!Equals [!Ref MinSeverity, "0"]` is false at 0 and the severity
   filter would be created for every deploy.
2. AWS::KMS::Key KeyPolicy given as a JSON object (the usual form in YAML): moto stores the dict and then
   fails every DescribeKey/GetKeyPolicy with a 500 (json.loads of a dict). It is stored as JSON text here,
   as CreateKey would receive it.
3. AWS::Events::Rule EventPattern given as a JSON string (the template's form when MinSeverity > 0, so that
   the severity is a JSON number): moto JSON-encodes it a second time and PutRule fails. A string is passed
   through as it is.
4. `!If [Condition, X, !Ref AWS::NoValue]` inside a list (the template's conditional policy statements and
   alarm actions): CloudFormation removes the element; moto leaves a null, and its KMS then fails every
   DescribeKey on a key policy with a null statement (500). Nulls are removed from lists here.
5. `!GetAtt LogGroup.Arn`: CloudFormation documents the ARN with a trailing `:*` (the form IAM policies need
   for the log streams); moto gives it without.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any


def patch() -> None:
    from moto.cloudformation import parsing
    from moto.events.models import Rule
    from moto.kms.models import Key
    from moto.logs.models import LogGroup

    clean_json = parsing.clean_json

    def clean_json_without_novalue(resource_json: Any, resources_map: Any) -> Any:
        # clean_json recurses through the module's global name, so nested lists get this too.
        if isinstance(resource_json, list):
            cleaned = (clean_json_without_novalue(v, resources_map) for v in resource_json)
            return [v for v in cleaned if v is not None]
        return clean_json(resource_json, resources_map)

    parsing.clean_json = clean_json_without_novalue

    load_parameters = parsing.ResourceMap.load_parameters

    def load_parameters_as_strings(self: Any) -> None:
        load_parameters(self)
        for name, spec in (self._template.get("Parameters") or {}).items():
            if spec.get("Type") == "Number" and name in self.resolved_parameters:
                given = self.input_parameters.get(name)
                value = given if given is not None else self.resolved_parameters[name]
                self.resolved_parameters[name] = str(value)
                self._parsed_resources[name] = str(value)

    parsing.ResourceMap.load_parameters = load_parameters_as_strings

    key_create = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def key_with_json_policy(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        props = cloudformation_json.get("Properties") or {}
        if isinstance(props.get("KeyPolicy"), dict):
            props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
        return key_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(key_with_json_policy)  # type: ignore[assignment]

    rule_create = Rule.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def rule_with_string_pattern(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:
        props = cloudformation_json.get("Properties") or {}
        if isinstance(props.get("EventPattern"), str):
            # moto json.dumps() the property: hand it the parsed pattern, which it encodes back to the same JSON.
            props["EventPattern"] = json.loads(props["EventPattern"])
        return rule_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Rule.create_from_cloudformation_json = classmethod(rule_with_string_pattern)  # type: ignore[assignment]

    log_group_attribute = LogGroup.get_cfn_attribute

    def log_group_arn_with_streams(self: Any, attribute_name: str) -> Any:
        value = log_group_attribute(self, attribute_name)
        if attribute_name == "Arn" and not value.endswith(":*"):
            value += ":*"
        return value

    LogGroup.get_cfn_attribute = log_group_arn_with_streams  # type: ignore[method-assign]


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    patch()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
