"""Powertools logger and tracer shared by every handler (service name comes from POWERTOOLS_SERVICE_NAME)."""

import logging

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()
# The AWS SDK's DEBUG logs print request bodies, task tokens included: never below WARNING, whatever LOG_LEVEL says.
logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("boto3").setLevel(logging.WARNING)
