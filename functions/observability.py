"""Powertools logger and tracer shared by every handler (service name comes from POWERTOOLS_SERVICE_NAME)."""

import logging

from aws_lambda_powertools import Logger, Tracer

# X-Ray patches only the AWS SDK: every AWS call becomes a subsegment. Not Tracer()'s default, patch_all, which
# imports and patches every supported library it finds installed (requests, httplib, sqlite3...) at each cold
# start, and whose httplib patch would put full URLs, Slack webhook secrets included, into the traces.
TRACED_MODULES = ("botocore",)

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
# The AWS SDK's DEBUG logs print request bodies, task tokens included: never below WARNING, whatever LOG_LEVEL says.
logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("boto3").setLevel(logging.WARNING)
