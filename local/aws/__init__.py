"""Embedded AWS: moto with Step Functions execution, in-process Lambda dispatch and a fast clock."""
