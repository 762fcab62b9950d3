"""The approval page attacked over real HTTP through the local API Gateway stand-in, on the emulated stack."""
