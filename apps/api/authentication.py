from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from apps.core.throttle import client_address

from .services import api_auth_failure_record, api_auth_retry_after, api_token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer cxm_…` (or `Token cxm_…`): the call acts as the token's membership."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        address = client_address(request)
        # Past the limit of failed keys from this address, no key is even looked at until the window ends.
        if wait := api_auth_retry_after(address=address):
            raise exceptions.Throttled(
                wait, detail="too many failed API authentications from this address; try again later"
            )
        if len(parts) != 2:
            api_auth_failure_record(address=address, key="")
            raise exceptions.AuthenticationFailed("give one token after the keyword: Bearer cxm_…")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError as error:
            api_auth_failure_record(address=address, key="")
            raise exceptions.AuthenticationFailed("the token is not text") from error
        token = api_token_authenticate(key)
        if token is None:
            api_auth_failure_record(address=address, key=key)
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        return token.membership.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token made by an organisation admin under Organisation → API tokens.",
        }
