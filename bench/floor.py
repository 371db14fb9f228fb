"""The floor of the intake benchmark: a bare Django view, served by the same gunicorn, settings
and middleware as the API, that parses the JSON body and inserts one row."""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, email text UNIQUE)"


@csrf_exempt
def floor(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (email) VALUES (%s) RETURNING id", [body["email"]])
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)
