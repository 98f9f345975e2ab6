"""The REST API: one small APIView per operation (see approvals/api_urls.py).

`common` maps domain errors to status codes, `payloads` builds the JSON bodies,
`schema` registers the bearer scheme with drf-spectacular. Answers go through
approvals.answers and approvals.forms, exactly like the screens.
"""
