"""The digital culture hall in the admin: staff of a hall and above manage its resources within
their scope (``ScopedAdminMixin``). Forms check the uploads (``services.check_resource_file``,
``services.check_picture``) before anything is written; ``save_model`` saves through
``resource_save`` and new pictures go through ``picture_add``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from network.admin_scope import ScopedAdminMixin, ScopedInlineMixin

from . import services
from .models import Picture, Resource

RESOURCE_FIELDS = [
    "hall",
    "kind",
    "topic",
    "audience",
    "title",
    "summary",
    "tags",
    "duration",
    "licence",
    "cover",
    "file",
    "stream_url",
    "live_start",
    "live_end",
]


class HttpsURLField(forms.URLField):
    """A stream address typed without a scheme is taken as https://."""

    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class ResourceForm(forms.ModelForm):
    """Checks the file against the chosen kind and the cover as a picture (by content, size
    and, for pictures, by decoding them); the service saves what passed."""

    class Meta:
        model = Resource
        fields = RESOURCE_FIELDS
        field_classes = {"stream_url": HttpsURLField}

    def clean(self):
        data = super().clean()
        self.checked_file = self.checked_cover = None
        upload = self.files.get(self.add_prefix("file"))
        kind = data.get("kind") or getattr(self.instance, "kind", "")
        if upload is not None and kind:
            try:
                self.checked_file = services.check_resource_file(kind=kind, upload=upload)
            except ValidationError as exc:
                self.add_error(None, exc)
        cover = self.files.get(self.add_prefix("cover"))
        if cover is not None:
            try:
                self.checked_cover = services.check_picture(cover)
            except ValidationError as exc:
                self.add_error("cover", exc)
        return data

    def _post_clean(self) -> None:
        # The model's rules are the service's to run (save_model), with messages that say
        # which field to fix.
        self.instance = construct_instance(
            self, self.instance, [f for f in self._meta.fields if f not in ("file", "cover")]
        )


class PictureForm(forms.ModelForm):
    class Meta:
        model = Picture
        fields = ["image", "caption", "position"]

    def clean_image(self):
        upload = self.files.get(self.add_prefix("image"))
        if upload is not None:
            self.checked_image = services.check_picture(upload)
        return self.cleaned_data["image"]


class PictureInline(ScopedInlineMixin, admin.TabularInline):
    model = Picture
    form = PictureForm
    extra = 1
    fields = ["image", "caption", "position"]


@admin.register(Resource)
class ResourceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope_path = "hall"
    form = ResourceForm
    inlines = [PictureInline]
    list_display = ["title", "kind", "topic", "hall", "status", "views", "plays", "published_at"]
    list_filter = ["status", "kind", "topic"]
    list_select_related = ["hall"]
    search_fields = ["title", "tags", "hall__name"]
    search_help_text = gettext_lazy("按标题、标签或馆名搜索")
    ordering = ["-created_at", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["hall", "kind", "topic", "audience", "title", "summary", "tags"]}),
        (
            gettext_lazy("文件"),
            {
                "fields": ["file", "cover", "duration", "licence"],
                "description": gettext_lazy(
                    "视频 MP4/WebM,音频 MP3/M4A/OGG,电子书 PDF;按文件内容识别类型。"
                    "图集的图片在页面下方逐张上传。"
                ),
            },
        ),
        (gettext_lazy("直播"), {"fields": ["stream_url", ("live_start", "live_end")]}),
        (
            gettext_lazy("状态"),
            {"fields": ["status", "published_at", "views", "plays", "content_type", "size"]},
        ),
    ]
    readonly_fields = ["status", "published_at", "views", "plays", "content_type", "size"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.kind == "pictures" else []

    def save_model(self, request, obj, form, change):
        services.resource_save(
            resource=obj,
            by_user=request.user,
            file=form.checked_file,
            cover=form.checked_cover,
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Picture:
            return super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if not inline_form.has_changed():
                continue
            if inline_form.cleaned_data.get("DELETE") and inline_form.instance.pk:
                inline_form.instance.delete()
            elif inline_form.instance.pk is None and getattr(inline_form, "checked_image", None):
                picture = services.picture_add(
                    resource=form.instance,
                    image=inline_form.checked_image,
                    caption=inline_form.cleaned_data.get("caption", ""),
                )
                inline_form.instance = picture
            elif inline_form.instance.pk:
                inline_form.instance.caption = inline_form.cleaned_data.get("caption", "")
                inline_form.instance.position = inline_form.cleaned_data.get("position", 0)
                inline_form.instance.save(update_fields=["caption", "position"])
        return None

    @admin.action(description=gettext_lazy("发布"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Resource]):
        published, refused = 0, []
        for resource in queryset:
            try:
                services.resource_publish(resource=resource)
            except ValidationError as exc:
                refused.append(f"{resource.title}:{';'.join(exc.messages)}")
            else:
                published += 1
        if published:
            self.message_user(request, _("已发布 %(n)d 项。") % {"n": published})
        for line in refused:
            self.message_user(request, _("未发布 %(why)s") % {"why": line}, messages.WARNING)

    @admin.action(description=gettext_lazy("撤回为草稿"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Resource]):
        for resource in queryset:
            services.resource_unpublish(resource=resource)
        self.message_user(request, _("已撤回 %(n)d 项。") % {"n": queryset.count()})
