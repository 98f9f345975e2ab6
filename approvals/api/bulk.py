"""POST /api/suspensions/bulk-resume: one answer given to several suspensions."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import bulk
from approvals.api import docs
from approvals.api.common import ApiView, Problem
from approvals.api.resume import KEY_HEADER
from approvals.serializers import BulkResumeSerializer
from flows import text


class BulkResumeView(ApiView):
    """200 with one result per id: the single resume's code and body for each."""

    @extend_schema(**docs.BULK_RESUME)
    def post(self, request):
        key = request.headers.get(KEY_HEADER, "")
        if problem := text.problem(key) or _key_too_long(key):
            raise Problem(
                400, "Invalid Idempotency-Key.", errors={KEY_HEADER: [problem]}
            )
        if not isinstance(request.data, dict):
            message = "The body must be a JSON object with `tokens` and `data`."
            raise Problem(400, message, errors={"__all__": [message]})
        envelope = BulkResumeSerializer(data=request.data)
        if not envelope.is_valid():
            raise Problem(400, "Invalid bulk request.", errors=_flat(envelope.errors))
        ids = list(dict.fromkeys(envelope.validated_data["tokens"]))
        data = envelope.validated_data["data"]
        results = bulk.resume_many(request.user, ids, data, key=key)
        accepted = sum(result.done for result in results)
        body = {
            "results": [
                {"tokenId": r.token_id, "status": r.status, "body": r.body}
                for r in results
            ],
            "accepted": accepted,
            "refused": len(results) - accepted,
        }
        return Response(body)


def _key_too_long(key: str) -> str | None:
    if len(key) > bulk.MAX_KEY_LENGTH:
        return f"At most {bulk.MAX_KEY_LENGTH} characters (each item adds its id)."
    return None


def _flat(errors) -> dict[str, list[str]]:
    """DRF's nested errors ({"tokens": {0: [...]}}) as field -> messages."""
    flat: dict[str, list[str]] = {}
    for name, problems in errors.items():
        if isinstance(problems, dict):
            flat[name] = [
                f"item {index}: {' '.join(str(m) for m in messages)}"
                for index, messages in problems.items()
            ]
        else:
            flat[name] = [str(m) for m in problems]
    return flat
