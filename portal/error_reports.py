"""What an error report (the ADMINS' emails, the debug page) may show of a request."""

from __future__ import annotations

from django.views.debug import SafeExceptionReporterFilter


class ResidentsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the ADMINS' emails, the debug page) hide what residents typed: names,
    phones and codes in POST data, besides Django's secrets."""

    hidden_post = frozenset({"name", "phone", "code", "contact", "leader_phone", "leader_name"})

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if request is None or not self.is_active(request):
            return params
        params = params.copy()
        for key in self.hidden_post & set(params):
            params[key] = self.cleansed_substitute
        return params
