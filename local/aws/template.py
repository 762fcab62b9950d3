"""Deploy a synthesized CDK template into moto directly (moto's CloudFormation would put state machines in
its non-executing backend): resolve the intrinsic functions, then create each resource with boto3.

Intrinsics: ``Ref`` (resources, parameters with their defaults, pseudo parameters), ``Fn::GetAtt``,
``Fn::Join``, ``Fn::Sub`` (both forms, ``${!Literal}``), ``Fn::Select``, ``Fn::Split``, ``Fn::If`` with
``Conditions`` (``Fn::Equals/Not/And/Or``), ``Fn::FindInMap``, ``Fn::Base64``, ``Fn::GetAZs``; properties that
resolve to ``AWS::NoValue`` are dropped. Resources are created in dependency order (``Ref``/``GetAtt``/``Sub``
references and ``DependsOn``). Created for real: IAM roles, KMS keys, log groups, DynamoDB tables (GSIs, LSIs,
billing mode, TTL), SNS topics and subscriptions, SQS queues, Secrets Manager secrets (generated values),
Lambda functions (placeholder code: the handlers run from the source tree, see ``patches.py``) and Step
Functions state machines (``DefinitionString`` or ``Definition`` plus ``DefinitionSubstitutions``; logging and
tracing dropped). Any other type (EventBridge rules, API Gateway, IAM policies, permissions...) gets a
deterministic fake physical id and ARN, and is recorded with its resolved properties.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import string
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

ACCOUNT = "123456789012"
PSEUDO: dict[str, Any] = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,  # replaced by the _NO_VALUE marker in TemplateDeployer
    "AWS::NotificationARNs": [],
}
PLACEHOLDER_ZIP: bytes
_NO_VALUE: Any = object()  # what Ref AWS::NoValue resolves to: the enclosing property or list item is dropped


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Handlers run in-process from the source tree (local/aws/patches.py).")
    return buffer.getvalue()


PLACEHOLDER_ZIP = _placeholder_zip()


@dataclass
class DeployedResource:
    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str | None:
        value = self.attributes.get("Arn")
        return str(value) if value else None


class FunctionError(RuntimeError):
    """A Lambda function invoked through :meth:`Deployment.invoke` raised (``error_type`` is the class name)."""

    def __init__(self, function_name: str, payload: dict[str, Any]) -> None:
        self.function_name = function_name
        self.error_type = str(payload.get("errorType"))
        self.error_message = str(payload.get("errorMessage"))
        self.payload = payload
        super().__init__(f"{function_name}: {self.error_type}: {self.error_message}")


@dataclass
class Deployment:
    stack_name: str
    resources: dict[str, DeployedResource]
    outputs: dict[str, Any] = field(default_factory=dict)

    def find(self, resource_type: str, logical_id_prefix: str) -> DeployedResource:
        matches = [
            r for r in self.resources.values() if r.type == resource_type and r.logical_id.startswith(logical_id_prefix)
        ]
        if len(matches) != 1:
            found = [m.logical_id for m in matches]
            raise LookupError(f"expected one {resource_type} starting with {logical_id_prefix!r}, found {found}")
        return matches[0]

    def state_machine_arn(self, prefix: str) -> str:
        return self.find("AWS::StepFunctions::StateMachine", prefix).physical_id

    def function_name(self, prefix: str) -> str:
        return self.find("AWS::Lambda::Function", prefix).physical_id

    def table_name(self, prefix: str) -> str:
        return self.find("AWS::DynamoDB::Table", prefix).physical_id

    def topic_arn(self, prefix: str) -> str:
        return self.find("AWS::SNS::Topic", prefix).physical_id

    @property
    def functions(self) -> list[DeployedResource]:
        return [r for r in self.resources.values() if r.type == "AWS::Lambda::Function"]

    def queue_url(self, prefix: str) -> str:
        return self.find("AWS::SQS::Queue", prefix).physical_id

    def secret_arn(self, prefix: str) -> str:
        return self.find("AWS::SecretsManager::Secret", prefix).physical_id

    @property
    def events_rules(self) -> list[DeployedResource]:
        """EventBridge rules, recorded only (moto cannot deliver to Lambda or Step Functions targets): their
        ``properties`` hold the resolved ``EventPattern`` (or ``ScheduleExpression``) and ``Targets``."""
        return [r for r in self.resources.values() if r.type == "AWS::Events::Rule"]

    def invoke(self, function_prefix: str, payload: Any = None) -> Any:
        """Invoke a deployed function synchronously; returns its decoded result, raises :class:`FunctionError`."""
        name = self.function_name(function_prefix)
        response = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
        body = response["Payload"].read()
        result = json.loads(body) if body else None
        if response.get("FunctionError"):
            raise FunctionError(name, result if isinstance(result, dict) else {"errorMessage": result})
        return result


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!][^}]*)\}", text)}
        for item in value.values():
            found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def _physical_name(stack: str, logical_id: str, limit: int = 64) -> str:
    digest = hashlib.sha256(f"{stack}/{logical_id}".encode()).hexdigest()[:8].upper()
    return f"{stack}-{logical_id}"[: limit - 9] + f"-{digest}"


class TemplateDeployer:
    def __init__(
        self, template: dict[str, Any], stack_name: str, region: str, parameters: dict[str, Any] | None = None
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.deployed: dict[str, DeployedResource] = {}
        self.pseudo = {
            **PSEUDO,
            "AWS::Region": region,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{stack_name}/local",
            "AWS::NoValue": _NO_VALUE,
        }
        self.parameters = {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()}
        self.parameters.update(parameters or {})

    # --- intrinsic functions --------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()  # fmt: skip
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(logical, attribute)
            if key == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v)) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return str(self.resolve(arg[1])).split(arg[0])
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                return self.resolve(arg[1] if self._condition(arg[0]) else arg[2])
            if key == "Fn::GetAZs":
                return [f"{self.region}a", f"{self.region}b"]
            if key == "Fn::Base64":
                import base64

                return base64.b64encode(str(self.resolve(arg)).encode()).decode()
            if key == "Fn::FindInMap":
                name, top, second = (self.resolve(a) for a in arg[:3])
                return (self.template.get("Mappings") or {})[name][top][second]
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.deployed[name].physical_id

    def _get_att(self, logical: str, attribute: str) -> Any:
        resource = self.deployed[logical]
        if attribute in resource.attributes:
            return resource.attributes[attribute]
        return f"arn:aws:local:{self.region}:{ACCOUNT}:{logical}/{attribute}"

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} renders as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self._get_att(logical, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _condition(self, name: str) -> bool:
        condition = (self.template.get("Conditions") or {})[name]
        return bool(self._evaluate_condition(condition))

    def _evaluate_condition(self, condition: Any) -> Any:
        if isinstance(condition, dict) and len(condition) == 1:
            (key, arg), = condition.items()  # fmt: skip
            if key == "Fn::Equals":
                return self._evaluate_condition(arg[0]) == self._evaluate_condition(arg[1])
            if key == "Fn::Not":
                return not self._evaluate_condition(arg[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate_condition(a) for a in arg)
            if key == "Condition":
                return self._condition(arg)
        return self.resolve(condition)

    # --- resources -------------------------------------------------------------------------------------

    def order(self) -> list[str]:
        resources = self.template["Resources"]
        pending = {
            logical: (_references(spec.get("Properties", {})) | set(_as_list(spec.get("DependsOn")))) & set(resources)
            for logical, spec in resources.items()
        }
        ordered: list[str] = []
        while pending:
            ready = sorted(logical for logical, deps in pending.items() if deps <= set(ordered))
            if not ready:
                raise ValueError(f"dependency cycle among {sorted(pending)}")
            ordered.extend(ready)
            for logical in ready:
                del pending[logical]
        return ordered

    def deploy(self, environment_overrides: dict[str, str] | None = None) -> Deployment:
        for logical in self.order():
            spec = self.template["Resources"][logical]
            if "Condition" in spec and not self._condition(spec["Condition"]):
                continue
            properties = self.resolve(spec.get("Properties", {}))
            create = getattr(self, "_create_" + spec["Type"].replace("::", "_"), None)
            resource = DeployedResource(logical, spec["Type"], "", properties)
            if create is None:
                resource.physical_id = _physical_name(self.stack_name, logical)
                resource.attributes["Arn"] = f"arn:aws:local:{self.region}:{ACCOUNT}:{resource.physical_id}"
            else:
                create(resource, environment_overrides or {})
            self.deployed[logical] = resource
        outputs = {
            name: self.resolve(spec["Value"])
            for name, spec in (self.template.get("Outputs") or {}).items()
            if "Condition" not in spec or self._condition(spec["Condition"])
        }
        return Deployment(self.stack_name, dict(self.deployed), outputs)

    def _client(self, service: str) -> Any:
        """One client per service for the whole deployment (creating one costs ~50 ms)."""
        clients: dict[str, Any] = self.__dict__.setdefault("_clients", {})
        if service not in clients:
            clients[service] = boto3.client(service, region_name=self.region)  # type: ignore[call-overload]
        return clients[service]

    def _create_AWS_IAM_Role(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        name = r.properties.get("RoleName") or _physical_name(self.stack_name, r.logical_id)
        role = self._client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(r.properties["AssumeRolePolicyDocument"])
        )["Role"]
        r.physical_id, r.attributes = name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def _create_AWS_KMS_Key(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        key = self._client("kms").create_key(Description=r.properties.get("Description", ""))["KeyMetadata"]
        r.physical_id, r.attributes = key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}

    def _create_AWS_Logs_LogGroup(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        name = r.properties.get("LogGroupName") or f"/local/{_physical_name(self.stack_name, r.logical_id)}"
        self._client("logs").create_log_group(logGroupName=name)
        r.physical_id = name
        r.attributes = {"Arn": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*"}

    def _create_AWS_DynamoDB_Table(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        name = p.get("TableName") or _physical_name(self.stack_name, r.logical_id, 255)
        keys = ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification")
        extra: dict[str, Any] = {k: p[k] for k in keys if k in p}
        client = self._client("dynamodb")
        if p.get("BillingMode", "PROVISIONED") == "PROVISIONED":
            extra["ProvisionedThroughput"] = _throughput(p.get("ProvisionedThroughput"))
            for index in extra.get("GlobalSecondaryIndexes", []):
                index["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
        table = client.create_table(
            TableName=name, KeySchema=p["KeySchema"], AttributeDefinitions=p["AttributeDefinitions"],
            BillingMode=p.get("BillingMode", "PROVISIONED"), **extra,
        )["TableDescription"]  # fmt: skip
        if p.get("TimeToLiveSpecification"):
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=p["TimeToLiveSpecification"])
        r.physical_id = name
        r.attributes = {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn", "")}

    def _create_AWS_SNS_Topic(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        name = r.properties.get("TopicName") or _physical_name(self.stack_name, r.logical_id, 256)
        arn = self._client("sns").create_topic(Name=name)["TopicArn"]
        r.physical_id, r.attributes = arn, {"TopicArn": arn, "TopicName": name}

    def _create_AWS_SNS_Subscription(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        attributes = {"FilterPolicy": json.dumps(p["FilterPolicy"])} if p.get("FilterPolicy") else {}
        if p.get("FilterPolicyScope"):
            attributes["FilterPolicyScope"] = str(p["FilterPolicyScope"])
        if p.get("RawMessageDelivery") is not None:
            attributes["RawMessageDelivery"] = str(p["RawMessageDelivery"]).lower()
        arn = self._client("sns").subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], Attributes=attributes
        )["SubscriptionArn"]
        r.physical_id = arn
        r.attributes = {"Arn": arn}

    def _create_AWS_SQS_Queue(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        fifo = str(p.get("FifoQueue", "")).lower() == "true"
        name = p.get("QueueName") or _physical_name(self.stack_name, r.logical_id, 75) + (".fifo" if fifo else "")
        attributes = {
            k: str(p[k]).lower() if isinstance(p[k], bool) else str(p[k]) for k in _QUEUE_ATTRIBUTES if k in p
        }
        if "RedrivePolicy" in p:
            attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
        client = self._client("sqs")
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        r.physical_id, r.attributes = url, {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_AWS_S3_Bucket(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        name = r.properties.get("BucketName") or _physical_name(self.stack_name, r.logical_id, 63).lower()
        client = self._client("s3")
        client.create_bucket(Bucket=name)
        if (r.properties.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        r.physical_id, r.attributes = name, {"Arn": f"arn:aws:s3:::{name}", "BucketName": name}

    def _create_AWS_SecretsManager_Secret(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        name = p.get("Name") or _physical_name(self.stack_name, r.logical_id)
        value = p.get("SecretString") or _generate_secret(p.get("GenerateSecretString") or {})
        arn = self._client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        r.physical_id, r.attributes = arn, {"Id": arn}

    def _create_AWS_Lambda_Function(self, r: DeployedResource, overrides: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        name = p.get("FunctionName") or _physical_name(self.stack_name, r.logical_id)
        variables = {**(p.get("Environment") or {}).get("Variables", {}), **overrides}
        function = self._client("lambda").create_function(
            FunctionName=name, Runtime=p.get("Runtime", "python3.12"), Role=p["Role"], Handler=p.get("Handler", ""),
            Code={"ZipFile": PLACEHOLDER_ZIP}, Environment={"Variables": {k: str(v) for k, v in variables.items()}},
            Timeout=int(p.get("Timeout", 3)), MemorySize=int(p.get("MemorySize", 128)),
            Architectures=p.get("Architectures", ["x86_64"]),
        )  # fmt: skip
        r.physical_id, r.attributes = name, {"Arn": function["FunctionArn"]}

    def _create_AWS_StepFunctions_StateMachine(self, r: DeployedResource, _: dict[str, str]) -> None:  # noqa: N802
        p = r.properties
        if "DefinitionString" in p:
            definition = p["DefinitionString"]
        elif "Definition" in p:
            definition = json.dumps(p["Definition"])
        else:
            raise ValueError(
                f"{r.logical_id}: only inline definitions are supported (DefinitionBody.from_string/"
                "from_chainable); DefinitionS3Location needs the asset uploaded"
            )
        for key, value in (p.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        name = p.get("StateMachineName") or _physical_name(self.stack_name, r.logical_id, 80)
        arn = self._client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=p["RoleArn"], type=p.get("StateMachineType", "STANDARD")
        )["stateMachineArn"]
        r.physical_id, r.attributes = arn, {"Arn": arn, "Name": name}


_QUEUE_ATTRIBUTES = (
    "FifoQueue",
    "ContentBasedDeduplication",
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
)


def _throughput(spec: Any) -> dict[str, int]:
    spec = spec or {}
    return {
        "ReadCapacityUnits": int(spec.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(spec.get("WriteCapacityUnits", 5)),
    }


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _generate_secret(spec: dict[str, Any]) -> str:
    alphabet = "" if spec.get("ExcludeLowercase") else string.ascii_lowercase
    alphabet += "" if spec.get("ExcludeUppercase") else string.ascii_uppercase
    alphabet += "" if spec.get("ExcludeNumbers") else string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-./:;<=>?@[]^_{|}~"
    if spec.get("IncludeSpace"):
        alphabet += " "
    alphabet = "".join(c for c in alphabet if c not in str(spec.get("ExcludeCharacters", ""))) or string.ascii_letters
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if spec.get("SecretStringTemplate") and spec.get("GenerateStringKey"):
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = value
        return json.dumps(document)
    return value
