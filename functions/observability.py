"""Powertools logger and tracer shared by every handler (service name comes from POWERTOOLS_SERVICE_NAME)."""

from aws_lambda_powertools import Logger, Tracer

logger = Logger()
tracer = Tracer()
