"""Operation records for what operators change in the Django admin (issue 15).

``RecordedAdminMixin`` goes on every ModelAdmin whose model holds partner, customer,
account-fact, role or member data. Each save writes one record with the changed fields before
and after (many-to-many fields included, compared in the database before and after
``save_related``), each inline object added, changed or removed writes its own record (the
inline names its events with ``RecordedInlineMixin``), and each delete writes one. The admin's
views already run in one transaction, so the record commits or rolls back with the change;
the paths Django leaves outside a transaction (the changelist's delete action, the password
form) get one here.

An admin that saves through a service (partners, customer facts) overrides ``save_model`` and
lets the service write its record; the mixin then records only its many-to-many fields and
inlines."""
from django.contrib.auth.models import Permission
from django.db import models, router, transaction

from audit.services import jsonable, record

# Never copied into a record: a password hash is no one's business, even hashed.
SECRET_FIELDS = frozenset({"password"})


def _value(value):
    if isinstance(value, Permission):
        return f"{value.content_type.app_label}.{value.codename}"
    return jsonable(value)


def _m2m_fields(form) -> list[models.ManyToManyField]:
    opts = form._meta.model._meta
    return [f for f in opts.many_to_many if f.name in form.fields and not form.fields[f.name].disabled]


def _m2m_state(obj, fields) -> dict[str, list]:
    state = {}
    for field in fields:
        related = getattr(obj, field.name).all()
        if field.related_model is Permission:
            related = related.select_related("content_type")
        state[field.name] = sorted(_value(o) for o in related)
    return state


def _concrete_fields(form, change: bool) -> list[models.Field]:
    """The model fields a save may change: the changed ones, or on add every one shown."""
    opts = form._meta.model._meta
    names = (set(form.changed_data) if change else set(form.fields)) - SECRET_FIELDS
    return [f for f in opts.concrete_fields if f.name in names]


class RecordedInlineMixin:
    """An inline whose objects' changes are recorded; names the three events."""

    record_added: str
    record_changed: str
    record_removed: str

    @classmethod
    def record_fields(cls, obj) -> dict:
        """The object's own fields; the parent it belongs to is the record's scope."""
        return {"id": obj.pk, **{f.name: _value(getattr(obj, f.attname)) for f in obj._meta.concrete_fields
                                 if not f.primary_key and not f.is_relation and f.name not in SECRET_FIELDS}}


class RecordedAdminMixin:
    """See the module docstring. Subclasses name their events and whom a record is about."""

    record_created: str
    record_updated: str
    record_deleted: str

    # What a record is about: keyword arguments of audit.services.record (partner, customer…).
    def record_scope(self, obj) -> dict:
        return {}

    def record_event(self, obj, action: str) -> str:
        return {"created": self.record_created, "updated": self.record_updated, "deleted": self.record_deleted}[
            action
        ]

    def record_identity(self, obj) -> dict:
        """Which object a record names, kept in before/after alike."""
        return {self.model._meta.model_name: obj.pk}

    # saving ---------------------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        fields = _concrete_fields(form, change)
        before = {}
        if change and fields:
            before = type(obj)._base_manager.select_for_update().values(*(f.name for f in fields)).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        after = {f.name: getattr(obj, f.attname) for f in fields}
        if change:
            # A form may call a field changed that holds the same value (10 for 10.00, a time
            # shown in the local zone): compared as values, only what really changed is kept.
            after = {k: v for k, v in after.items() if before[k] != v}
            before = {k: before[k] for k in after}
        self._pending(request)[id(form)] = (
            {k: _value(v) for k, v in before.items()}, {k: _value(v) for k, v in after.items()},
        )

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        m2m = _m2m_fields(form)
        m2m_before = _m2m_state(obj, m2m) if change else {}
        super().save_related(request, form, formsets, change)
        m2m_after = _m2m_state(obj, m2m)
        before, after = self._pending(request).pop(id(form), (None, None))
        if before is None:
            # save_model went through a service that wrote its own record.
            before, after = {}, {}
        for name in m2m_after:
            if m2m_before.get(name) != m2m_after[name] and (change or m2m_after[name]):
                if change:
                    before[name] = m2m_before[name]
                after[name] = m2m_after[name]
        if after or before:
            identity = self.record_identity(obj)
            record(
                event=self.record_event(obj, "updated" if change else "created"),
                actor=request.user,
                before={**identity, **before} if change else {},
                after={**identity, **after},
                **self.record_scope(obj),
            )

    def save_formset(self, request, form, formset, change):
        inline = self._inline_for(formset.model)
        # From the database: validation has already copied the posted values onto the forms' instances.
        pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
        rows = formset.model._base_manager.select_for_update().filter(pk__in=pks)
        stored = {o.pk: inline.record_fields(o) for o in rows}
        deleted = [stored[f.instance.pk] for f in formset.deleted_forms if f.instance.pk in stored]
        super().save_formset(request, form, formset, change)
        scope = self.record_scope(form.instance)
        for fields in deleted:
            record(event=inline.record_removed, actor=request.user, before=fields, **scope)
        for obj in formset.new_objects:
            record(event=inline.record_added, actor=request.user, after=inline.record_fields(obj), **scope)
        for obj, _names in formset.changed_objects:
            old, new = stored[obj.pk], inline.record_fields(obj)
            names = [k for k in new if old.get(k) != new[k]]
            if names:
                record(
                    event=inline.record_changed, actor=request.user,
                    before={"id": obj.pk, **{k: old.get(k) for k in names}},
                    after={"id": obj.pk, **{k: new[k] for k in names}},
                    **scope,
                )

    # deleting -------------------------------------------------------------------------------
    def record_deleted_state(self, obj) -> dict:
        """What a delete record keeps of the object: its fields and many-to-many sets."""
        state = {f.name: _value(getattr(obj, f.attname)) for f in obj._meta.concrete_fields
                 if f.name not in SECRET_FIELDS}
        return {**state, **_m2m_state(obj, obj._meta.many_to_many)}

    def _record_delete(self, request, obj):
        record(
            event=self.record_event(obj, "deleted"), actor=request.user,
            before={**self.record_identity(obj), **self.record_deleted_state(obj)}, **self.record_scope(obj),
        )

    def delete_model(self, request, obj):
        with transaction.atomic(using=router.db_for_write(self.model)):
            self._record_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected" action runs outside the admin's transaction.
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset.select_for_update(of=("self",)):
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)

    # helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _pending(request) -> dict:
        if not hasattr(request, "_admin_record_pending"):
            request._admin_record_pending = {}
        return request._admin_record_pending

    def _inline_for(self, model) -> type[RecordedInlineMixin]:
        for inline in self.inlines:
            if inline.model is model and issubclass(inline, RecordedInlineMixin):
                return inline
        raise TypeError(f"The inline for {model.__name__} must be a RecordedInlineMixin.")
