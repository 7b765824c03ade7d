"""The admin site, with multi-factor authentication for every staff account.

A password login alone reaches only the MFA page (``admin:mfa``): a staff user without an
authenticator enrols there (QR code, a code to confirm, recovery codes shown once); one with
an authenticator enters a code from it or a recovery code. Only a verified session passes
``has_permission``, so every admin page, action and the staff pages check it.
"""

from base64 import b32encode
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .mfa import (
    mfa_enrolled,
    mfa_enrolment_confirm,
    mfa_enrolment_start,
    mfa_pending,
    mfa_recovery_codes_regenerate,
    mfa_required,
    mfa_verify,
    recovery_codes_left,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="Code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class MFAAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        if request.method == "GET" and mfa_pending(request.user):
            return redirect(_with_next(reverse("admin:mfa", current_app=self.name), request))
        return super().login(request, extra_context)

    def get_urls(self):
        return [
            path("mfa/", self.mfa_view, name="mfa"),
            path(
                "mfa/recovery-codes/",
                self.admin_view(self.recovery_codes_view),
                name="mfa_recovery_codes",
            ),
            *super().get_urls(),
        ]

    def mfa_view(self, request):
        """Enrol (no authenticator yet) or verify this session, then go on to ``next``."""
        if not (request.user.is_authenticated and mfa_required(request.user)):
            return redirect(_with_next(reverse("admin:login", current_app=self.name), request))
        user, goal = request.user, _next_url(request) or reverse("admin:index")
        if request.user.is_verified():
            return redirect(goal)
        enrolled = mfa_enrolled(user)
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                if enrolled:
                    mfa_verify(request=request, user=user, token=form.cleaned_data["code"])
                    return redirect(goal)
                codes = mfa_enrolment_confirm(
                    request=request, user=user, token=form.cleaned_data["code"]
                )
                return self._recovery_codes_page(request, codes, goal, first_time=True)
            except ValidationError as exc:
                form.add_error("code", exc)
        context = {**self.each_context(request), "title": "Two-step verification",
                   "form": form, "enrolled": enrolled, "next": goal}  # fmt: skip
        if not enrolled:
            device = mfa_enrolment_start(user=user)
            context |= {"qr_svg": _qr_svg(device.config_url), "secret": _b32(device)}
        return TemplateResponse(request, "admin/mfa.html", context)

    def recovery_codes_view(self, request):
        """New recovery codes for the caller (POST); the page says how many are left."""
        if request.method == "POST":
            codes = mfa_recovery_codes_regenerate(user=request.user)
            return self._recovery_codes_page(request, codes, reverse("admin:index"))
        context = {**self.each_context(request), "title": "Recovery codes",
                   "codes_left": recovery_codes_left(request.user)}  # fmt: skip
        return TemplateResponse(request, "admin/mfa_recovery_codes.html", context)

    def _recovery_codes_page(self, request, codes, goal, first_time=False):
        context = {**self.each_context(request), "title": "Your recovery codes", "codes": codes,
                   "next": goal, "first_time": first_time}  # fmt: skip
        return TemplateResponse(request, "admin/mfa_recovery_codes.html", context)


def _next_url(request) -> str:
    goal = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(goal, {request.get_host()}, request.is_secure())
    return goal if safe else ""


def _with_next(url: str, request) -> str:
    goal = _next_url(request)
    return f"{url}?{urlencode({'next': goal})}" if goal else url


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def _b32(device) -> str:
    """The secret as authenticator apps expect it typed by hand (base32, in groups of 4)."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
