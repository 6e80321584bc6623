"""The REST API's endpoints, one module per domain: thin translations of HTTP to the same selectors and
services the pages call."""
